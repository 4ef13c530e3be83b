"""Paper ballots through the booth's writer: entered, or confirmed by a second officer, in a
transaction of their own while no online batch is in flight, then added to the live counts."""

from __future__ import annotations

from polls.domain.access import Actor
from polls.domain.ballots import Answers
from polls.domain.polls import Assurance
from polls.domain.voter_secrets import CardCredential
from polls.store import paper as paper_store
from polls.store.db import Database
from polls.store.paper import PaperEntry, PaperVote
from polls.voting.votes import Vote
from polls.voting.writer import BallotWriter


def _counted(votes: list[PaperVote]) -> list[Vote]:
    return [
        Vote(
            poll=v.poll,
            assurance=Assurance(v.assurance),
            credential="",  # the live counts need the answers, area and channel only
            unwrap="",
            fast_path_key=b"",
            spent_until=0,
            answers=v.answers,
            channel=v.channel,
            area_id=v.area_id,
            tracker=v.tracker,
        )
        for v in votes
    ]


async def enter(
    db: Database,
    writer: BallotWriter,
    actor: Actor,
    poll_id: int,
    rows: list[tuple[int, CardCredential, Answers]],
) -> PaperEntry:
    """Paper ballots as (line, the card's credential, answers); held instead of counted when the pilot
    asks for a second officer."""
    entries: list[PaperEntry] = []

    async def write() -> list[Vote]:
        async with db.begin() as session:
            entries.append(await paper_store.enter(session, actor, poll_id, rows))
        return _counted(entries[0].counted)

    await writer.write_aside(write)
    return entries[0]


async def confirm(db: Database, writer: BallotWriter, actor: Actor, poll_id: int, batch_id: int) -> int:
    """A different officer confirms a held batch; answers how many ballots it added."""

    async def write() -> list[Vote]:
        async with db.begin() as session:
            return _counted(await paper_store.confirm(session, actor, poll_id, batch_id))

    return len(await writer.write_aside(write))
