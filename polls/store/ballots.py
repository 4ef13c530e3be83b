"""Ballots in the database: poll definitions, who may vote, and a batch's transaction through
SQLAlchemy (polls.voting.writer groups votes into batches).

A batch's transaction refuses codes that may not vote (polls.domain.eligibility), inserts the
nullifiers of the rest (their primary key is the final guard against a second vote, whatever
Redis said) and stores the ballots of those whose nullifier went in. Ballots carry no
reference, no code and no time, and are inserted in random order. The transaction only reads
the cards' rows, never locks or writes them: on PostgreSQL a lock would stamp the card's row
with the id of the transaction that holds its ballot.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import JSON, Integer, String, Table, any_, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from polls.domain.ballots import Answers, OptionDef, PollDef, QuestionDef
from polls.domain.eligibility import BROWSER, CodeFacts, PendingVote, admit, refusal, spent
from polls.domain.polls import Assurance, PollStatus
from polls.domain.questions import QuestionKind
from polls.domain.translations import localise
from polls.domain.voter_secrets import CardCredential
from polls.errors import ErrorCode, NotFound, PollsError
from polls.store.db import Database
from polls.store.models import Ballot, CodeBatch, Nullifier, Poll, Question, VoterCode

# Core tables for the hot path: plain executemany, no ORM bookkeeping per row.
BALLOTS = cast(Table, Ballot.__table__)
NULLIFIERS = cast(Table, Nullifier.__table__)


def poll_definition(poll: Poll) -> PollDef:
    return PollDef(
        id=poll.id,
        pilot_id=poll.pilot_id,
        area_ids=frozenset(a.id for a in poll.areas),
        secrecy_k=poll.secrecy_k,
        questions=tuple(
            QuestionDef(
                id=q.id,
                kind=QuestionKind(q.kind),
                title=q.title,
                settings=dict(q.settings),
                options=tuple(OptionDef(o.id, o.label, o.cost) for o in q.options),
                help_text=q.help_text,
            )
            for q in poll.questions
        ),
    )


def localised_definition(poll: Poll, language: str) -> PollDef:
    """The poll's questions as a resident reading ``language`` sees them."""
    texts: dict[str, Any] = {}
    for question in poll.questions:
        texts[f"q{question.id}"] = question.translations or {}
        for option in question.options:
            texts[f"o{option.id}"] = option.translations or {}
    return localise(poll_definition(poll), texts, language)


async def load_poll(session: AsyncSession, poll_id: int) -> Poll:
    query = (
        select(Poll)
        .where(Poll.id == poll_id)
        .options(selectinload(Poll.areas), selectinload(Poll.questions).selectinload(Question.options))
    )
    poll = (await session.execute(query)).scalar_one_or_none()
    if poll is None:
        raise NotFound("There is no such poll", code=ErrorCode.POLL_NOT_FOUND)
    return poll


class BallotToWrite(PendingVote, Protocol):
    """A vote in a batch, as its transaction stores it (polls.voting.votes.Vote is one)."""

    @property
    def answers(self) -> Answers: ...
    @property
    def tracker(self) -> str: ...


B = TypeVar("B", bound=BallotToWrite)


async def write_batch(db: Database, votes: list[B], key: bytes) -> tuple[list[B], list[tuple[B, PollsError]]]:
    """A batch's transaction in a session of its own (in-memory SQLite; PostgreSQL's ballot writer
    runs polls.store.ballots_postgresql on a connection of its own): the votes accepted
    (committed), and those refused (and why). Transactions may run at once: the nullifiers' key
    decides between them, and they take its locks in the same (sorted) order."""
    async with db.begin() as session:
        accepted, refused = await spend_codes(session, votes, key)
        await store_ballots(session, accepted)
    return accepted, refused


P = TypeVar("P", bound=PendingVote)


async def spend_codes(
    session: AsyncSession, votes: list[P], key: bytes
) -> tuple[list[P], list[tuple[P, PollsError]]]:
    """Inside the caller's transaction: spend the codes that may vote (their nullifiers go in);
    answer those spent now, and those refused (and why). Paper ballots spend theirs here too."""
    # FOR SHARE (PostgreSQL): an officer closing the poll waits for this batch, and this
    # batch waits for a close already under way, so no ballot lands in a closed poll.
    locked = (
        select(Poll.id, Poll.status).where(Poll.id.in_({v.poll.id for v in votes})).with_for_update(read=True)
    )
    statuses = {poll_id: status for poll_id, status in await session.execute(locked)}
    # No FOR SHARE on the cards (see the module's docstring). The revoke it guarded against
    # is harmless: a vote racing its card's cancellation is one the holder cast just before
    # it, and the replacement card shares the voter secret, so the nullifier still refuses it.
    codes = await _code_facts(session, [v.credential for v in votes])
    live, refused = admit(votes, statuses, codes, key)
    if not live:
        return [], refused
    accepted, already = spent(live, await _insert_nullifiers(session, live))
    return accepted, refused + already


async def store_ballots(session: AsyncSession, ballots: Sequence[BallotToWrite]) -> None:
    """Insert ballots whose codes are spent, in random order, with nothing that names a card."""
    rows = ballot_rows(ballots)
    if not rows:
        return
    if _postgresql(session):
        await session.execute(
            _PG_BALLOTS, _columns(rows, ("poll_id", "area_id", "channel", "tracker", "answers"))
        )
    else:
        await session.execute(insert(BALLOTS), rows)


def ballot_rows(ballots: Sequence[BallotToWrite]) -> list[dict[str, Any]]:
    """The rows of ballots whose codes are spent, shuffled: nothing in them names a card."""
    rows = [
        {
            "poll_id": v.poll.id,
            "area_id": v.area_id,
            "channel": v.channel,
            "answers": v.answers,
            "tracker": v.tracker,
        }
        for v in ballots
    ]
    random.shuffle(rows)  # insertion order must not mirror the nullifiers' order
    return rows


async def _code_facts(session: AsyncSession, credentials: list[str]) -> dict[str, CodeFacts]:
    """What the cards with these short digests say, by digest (browsers have no card)."""
    wanted = cards_of(credentials)
    if not wanted:
        return {}
    query = (
        select(
            VoterCode.short_digest,
            VoterCode.pilot_id,
            VoterCode.area_id,
            VoterCode.revoked,
            CodeBatch.kind,
            CodeBatch.poll_id,
            VoterCode.wrapped_secret,
            VoterCode.voter_key,
        )
        .join(CodeBatch, CodeBatch.id == VoterCode.batch_id)
        .where(
            # PostgreSQL: one array parameter, one statement for any number of codes (see below)
            VoterCode.short_digest == any_(bindparam("digests", wanted, type_=ARRAY(String)))
            if _postgresql(session)
            else VoterCode.short_digest.in_(wanted)
        )
    )
    return {
        digest: CodeFacts(pilot_id, area_id, revoked, kind, poll_id, wrapped, voter_key)
        for digest, pilot_id, area_id, revoked, kind, poll_id, wrapped, voter_key in (
            await session.execute(query)
        ).all()
    }


def cards_of(credentials: list[str]) -> list[str]:
    """The short digests among a batch's credentials (a browser's credential names no card)."""
    return [c for c in credentials if not c.startswith(BROWSER)]


@dataclass
class _Trial:
    """A vote with no answers yet: enough for the rules to say whether its code may vote."""

    poll: PollDef
    assurance: Assurance
    credential: str
    unwrap: str
    channel: str = "online"
    nullifier: str = ""
    area_id: int | None = None


async def eligibility(
    session: AsyncSession, poll: PollDef, assurance: Assurance, credentials: list[CardCredential]
) -> dict[str, PollsError]:
    """Why each of these cards could not vote in this open poll, by short digest (the ones that
    can are absent).

    The same rules the writer applies, checked early: before a resident fills in a ballot, and
    for every row of a paper count before any of it is entered."""
    codes = await _code_facts(session, [c.digest for c in credentials])
    problems: dict[str, PollsError] = {}
    for card in credentials:
        trial = _Trial(poll=poll, assurance=assurance, credential=card.digest, unwrap=card.unwrap)
        problem = refusal(trial, PollStatus.OPEN.value, codes)
        if problem is not None:
            problems[card.digest] = problem
    return problems


def _nullifier_order(row: dict[str, Any]) -> tuple[int, str]:
    return row["poll_id"], row["value"]


def nullifier_rows(votes: Sequence[PendingVote]) -> list[dict[str, Any]]:
    """The votes' nullifiers, sorted: concurrent transactions take the key's locks in one order."""
    return sorted(({"poll_id": v.poll.id, "value": v.nullifier} for v in votes), key=_nullifier_order)


async def _insert_nullifiers(session: AsyncSession, votes: Sequence[PendingVote]) -> set[tuple[int, str]]:
    """Insert the batch's nullifiers, skipping ones already present; return those inserted."""
    rows = nullifier_rows(votes)
    if _postgresql(session):
        result = await session.execute(_PG_NULLIFIERS, _columns(rows, ("poll_id", "value")))
        return {(poll_id, value) for poll_id, value in result}
    # executemany with RETURNING: one cached statement, sent as multi-row batches by SQLAlchemy.
    statement = (
        sqlite_insert(NULLIFIERS).on_conflict_do_nothing().returning(NULLIFIERS.c.poll_id, NULLIFIERS.c.value)
    )
    result = await session.execute(statement, rows)
    return {(poll_id, value) for poll_id, value in result}


# PostgreSQL: a batch's rows go in as one array per column, unnested by the server: one
# statement whatever the batch's size, so each connection prepares it once, and one round trip
# (a multi-row VALUES has a text, and a prepared statement, for every batch size).
_PG_NULLIFIERS = text(
    "INSERT INTO nullifiers (poll_id, value) SELECT * FROM unnest(:poll_id, :value) "
    "ON CONFLICT DO NOTHING RETURNING poll_id, value"
).bindparams(bindparam("poll_id", type_=ARRAY(Integer)), bindparam("value", type_=ARRAY(String)))
_PG_BALLOTS = text(
    "INSERT INTO ballots (poll_id, area_id, channel, tracker, answers) "
    "SELECT * FROM unnest(:poll_id, :area_id, :channel, :tracker, :answers)"
).bindparams(
    bindparam("poll_id", type_=ARRAY(Integer)),
    bindparam("area_id", type_=ARRAY(Integer)),
    bindparam("channel", type_=ARRAY(String)),
    bindparam("tracker", type_=ARRAY(String)),
    bindparam("answers", type_=ARRAY(JSON)),
)


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _columns(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, list[Any]]:
    """The rows as one list per column."""
    return {name: [row[name] for row in rows] for name in names}
