"""What voters see: the open polls a poll card can vote in (and whether it has), a poll's ballot
trackers, and the languages on offer before we know which pilot a voter belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballots import PollDef
from polls.domain.eligibility import nullifier
from polls.domain.polls import Assurance, PollStatus
from polls.domain.voter_secrets import CardCredential, card_nullifier, unwrap_secret
from polls.store.ballots import eligibility
from polls.store.codes import ballot_key, find_by_short_code
from polls.store.models import Ballot, Nullifier, Pilot, Poll, VoterCode, poll_areas


@dataclass(frozen=True)
class CardPolls:
    code: VoterCode
    pilot: Pilot
    polls: list[tuple[Poll, bool]]  # each open poll the card may vote in, and whether it has


async def open_polls_for_card(session: AsyncSession, card: CardCredential) -> CardPolls | None:
    """The polls this card can vote in now, and which of them it has voted in (which only its code
    can tell: its nullifiers need the voter secret the code unwraps); None for an unknown code."""
    code = await find_by_short_code(session, card.digest)
    if code is None:
        return None
    pilot = await session.get(Pilot, code.pilot_id)
    assert pilot is not None  # a code always belongs to a pilot
    query = select(Poll).where(Poll.pilot_id == code.pilot_id, Poll.status == PollStatus.OPEN.value)
    polls = list((await session.scalars(query.order_by(Poll.closes_at, Poll.id))).all())
    limits = (
        await session.execute(
            select(poll_areas.c.poll_id, poll_areas.c.area_id).where(
                poll_areas.c.poll_id.in_([p.id for p in polls])
            )
        )
    ).all()
    key = await ballot_key(session)
    rows = []
    for poll in polls:
        areas = frozenset(area for poll_id, area in limits if poll_id == poll.id)
        light = PollDef(id=poll.id, pilot_id=poll.pilot_id, area_ids=areas, questions=())
        # The writer's own rules: other areas, event codes of other polls, and so on.
        if await eligibility(session, light, Assurance(poll.assurance), [card]):
            continue
        if code.wrapped_secret is None:  # a legacy card
            spent = nullifier(key, poll.id, code.voter_key or code.reference)
        else:
            spent = card_nullifier(unwrap_secret(code.wrapped_secret, card.unwrap), poll.id)
        voted = await session.get(Nullifier, (poll.id, spent))
        rows.append((poll, voted is not None))
    return CardPolls(code, pilot, rows)


async def ballot_trackers(session: AsyncSession, poll_id: int) -> list[str]:
    """Every ballot tracker of the poll, sorted (so their order says nothing of the ballots')."""
    found = await session.scalars(select(Ballot.tracker).where(Ballot.poll_id == poll_id))
    return sorted(found)


async def offered_languages(session: AsyncSession) -> list[str]:
    """Every language any pilot offers, English first."""
    offered = (await session.execute(select(Pilot.languages))).scalars().all()
    languages = ["en"]
    for pilot_languages in offered:
        languages += [code for code in pilot_languages if code not in languages]
    return languages
