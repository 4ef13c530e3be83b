"""Paper ballots officers enter: counted at once, or held for a different officer to confirm.

Codes are spent when a ballot is entered, so a voter whose paper is being checked cannot vote
online meanwhile; a held batch keeps its ballots (area and answers, shuffled) and the nullifiers
it spent (sorted), never a code, reference or tracker beside an answer. Confirming counts the
ballots; rejecting gives the codes back. Each step is one audit entry saying who, when, which
poll and how many, never which answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.ballots import Answers, PollDef, check_ballot, new_tracker
from polls.domain.polls import PollStatus
from polls.errors import Conflict, ErrorCode, NotFound, PollNotOpen, PollsError, ValidationFailed
from polls.store import audit
from polls.store.ballots import poll_definition, spend_codes, store_ballots
from polls.store.codes import ballot_key
from polls.store.models import Nullifier, PaperBatch, Pilot, Poll, utcnow
from polls.store.polls import get_poll

PAPER = "paper"
HELD, CONFIRMED, REJECTED = "held", "confirmed", "rejected"
MAX_REASON = 500


@dataclass
class PaperVote:
    """One paper ballot on its way in; ``reference`` stays in memory, never beside the answers."""

    poll: PollDef
    assurance: str
    reference: str
    answers: Answers
    line: int = 0
    channel: str = PAPER
    nullifier: str = ""
    area_id: int | None = None
    tracker: str = ""


@dataclass
class PaperEntry:
    counted: list[PaperVote] = field(default_factory=list)  # in the count now
    refused: list[tuple[int, PollsError]] = field(default_factory=list)  # (line, why)
    held: PaperBatch | None = None  # waiting for a second officer


async def enter(
    session: AsyncSession, actor: Actor, poll_id: int, rows: list[tuple[int, str, Answers]]
) -> PaperEntry:
    """Enter paper ballots, given as (line, voter reference, answers): spend their codes, then
    count them, or hold them when the pilot asks for a second officer."""
    poll = await get_poll(session, actor, poll_id, Permission.MANAGE_PILOT)
    if poll.closes_at is not None and utcnow() >= poll.closes_at:
        raise PollNotOpen("This poll has closed")
    definition = poll_definition(poll)
    votes = [
        PaperVote(definition, poll.assurance, ref, check_ballot(definition, a), line) for line, ref, a in rows
    ]
    accepted, refused = await spend_codes(session, votes, await ballot_key(session))
    entry = PaperEntry(refused=[(v.line, problem) for v, problem in refused])
    if not accepted:
        return entry
    pilot = await session.get(Pilot, poll.pilot_id)
    details: dict[str, object] = {"ballots": len(accepted), "refused": len(refused)}
    if pilot is not None and pilot.paper_second_officer:
        entry.held = _hold(poll, actor, accepted)
        session.add(entry.held)
        await session.flush()
        details |= {"batch": entry.held.id, "held": True}
    else:
        for vote in accepted:
            vote.tracker = new_tracker(poll.id, vote.answers)
        await store_ballots(session, accepted)
        entry.counted = accepted
    await _audit(session, actor, poll, "paper.enter", details)
    return entry


def _hold(poll: Poll, actor: Actor, votes: list[PaperVote]) -> PaperBatch:
    ballots = [{"area_id": v.area_id, "answers": v.answers} for v in votes]
    random.shuffle(ballots)  # the order typed must not say which code went with which ballot
    return PaperBatch(
        poll_id=poll.id,
        status=HELD,
        count=len(votes),
        entered_by_id=actor.staff_id,
        entered_by=actor.email,
        entered_at=utcnow(),
        reason="",
        ballots=ballots,
        spent=sorted(v.nullifier for v in votes),
    )


async def _audit(
    session: AsyncSession, actor: Actor, poll: Poll, action: str, details: dict[str, object]
) -> None:
    await audit.record(
        session,
        actor=actor.email,
        action=action,
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        after=details,
    )


async def held_batches(session: AsyncSession, poll_id: int) -> list[PaperBatch]:
    query = select(PaperBatch).where(PaperBatch.poll_id == poll_id, PaperBatch.status == HELD)
    return list((await session.scalars(query.order_by(PaperBatch.id))).all())


def _named(batches: list[PaperBatch]) -> str:
    return "; ".join(f"batch {b.id} ({b.count} ballots, entered by {b.entered_by})" for b in batches)


async def require_none_held(session: AsyncSession, poll_id: int) -> None:
    """A poll is closed (and counted) only once every held paper batch is confirmed or rejected."""
    held = await held_batches(session, poll_id)
    if held:
        raise Conflict(
            "Paper ballots are waiting for a second officer: "
            f"{_named(held)}. Confirm or reject them before closing the poll.",
            code=ErrorCode.PAPER_BATCHES_HELD,
        )


async def _decidable(
    session: AsyncSession, actor: Actor, poll_id: int, batch_id: int
) -> tuple[Poll, PaperBatch]:
    poll = await get_poll(session, actor, poll_id, Permission.MANAGE_PILOT, lock=True)
    query = select(PaperBatch).where(PaperBatch.id == batch_id, PaperBatch.poll_id == poll.id)
    batch = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if batch is None:
        raise NotFound("This poll has no such batch of paper ballots", code=ErrorCode.PAPER_BATCH_NOT_FOUND)
    if batch.status != HELD:
        raise Conflict(
            f"This batch has already been {batch.status} by {batch.decided_by}",
            code=ErrorCode.PAPER_BATCH_DECIDED,
        )
    if batch.entered_by_id == actor.staff_id:
        raise Conflict(
            "You entered this batch: a different officer must confirm or reject it",
            code=ErrorCode.PAPER_SAME_OFFICER,
        )
    if poll.status != PollStatus.OPEN.value:
        raise PollNotOpen("Paper ballots are confirmed while the poll is open")
    return poll, batch


def _decided(batch: PaperBatch, actor: Actor, status: str) -> dict[str, object]:
    batch.status, batch.decided_by, batch.decided_at = status, actor.email, utcnow()
    batch.ballots, batch.spent = [], []  # nothing of the ballots is kept once decided
    return {"batch": batch.id, "ballots": batch.count, "entered_by": batch.entered_by}


async def confirm(session: AsyncSession, actor: Actor, poll_id: int, batch_id: int) -> list[PaperVote]:
    """A second officer has checked the batch against the paper: its ballots go in the count."""
    poll, batch = await _decidable(session, actor, poll_id, batch_id)
    definition = poll_definition(poll)
    votes = [
        PaperVote(definition, poll.assurance, "", b["answers"], area_id=b["area_id"]) for b in batch.ballots
    ]
    for vote in votes:
        vote.tracker = new_tracker(poll.id, vote.answers)
    await store_ballots(session, votes)
    await _audit(session, actor, poll, "paper.confirm", _decided(batch, actor, CONFIRMED))
    return votes


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", "Say why the batch is rejected (what does not match the paper)")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.one("reason", f"Keep the reason to {MAX_REASON} characters")
    return reason


async def reject(session: AsyncSession, actor: Actor, poll_id: int, batch_id: int, reason: str) -> PaperBatch:
    """The batch does not match the paper: nothing of it is counted and its codes can vote again
    (so the paper can be entered afresh)."""
    reason = check_reason(reason)
    poll, batch = await _decidable(session, actor, poll_id, batch_id)
    if batch.spent:
        await session.execute(
            delete(Nullifier).where(Nullifier.poll_id == poll.id, Nullifier.value.in_(batch.spent))
        )
    batch.reason = reason
    details = _decided(batch, actor, REJECTED) | {"reason": reason}
    await _audit(session, actor, poll, "paper.reject", details)
    return batch
