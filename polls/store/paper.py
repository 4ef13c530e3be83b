"""Paper ballots officers enter: counted at once, or held for a different officer to confirm.

Codes are spent when a ballot is entered, so a voter whose paper is being checked cannot vote
online meanwhile; a held batch keeps its ballots (area and answers, shuffled) and the nullifiers
it spent (sorted), never a code, reference or tracker beside an answer. Confirming counts the
ballots; rejecting gives the codes back; either way the held batch is deleted. Each step is one
audit entry saying who, when, which poll and how many, never which answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.ballots import Answers, PollDef, check_ballot, new_tracker
from polls.domain.polls import PollStatus
from polls.domain.voter_secrets import CardCredential
from polls.errors import Conflict, ErrorCode, NotFound, PollNotOpen, PollsError, ValidationFailed
from polls.store import audit
from polls.store.ballots import poll_definition, spend_codes, store_ballots
from polls.store.codes import ballot_key
from polls.store.models import Nullifier, PaperBatch, Pilot, Poll, Staff, utcnow
from polls.store.polls import get_poll

PAPER = "paper"
MAX_REASON = 500


@dataclass
class PaperVote:
    """One paper ballot on its way in; its card's credential stays in memory, never beside the answers."""

    poll: PollDef
    assurance: str
    credential: str  # the card's short digest
    unwrap: str  # the pad from the card's code that unwraps its voter secret
    answers: Answers
    line: int = 0
    channel: str = PAPER
    nullifier: str = ""
    area_id: int | None = None
    tracker: str = ""


@dataclass(frozen=True)
class HeldBatch:
    id: int
    count: int
    entered_by_id: int
    entered_by: str  # their email address
    entered_at: datetime
    ballots: list[Any]  # {"area_id", "answers"}, in no particular order


@dataclass
class PaperEntry:
    counted: list[PaperVote] = field(default_factory=list)  # in the count now
    refused: list[tuple[int, PollsError]] = field(default_factory=list)  # (line, why)
    held: HeldBatch | None = None  # waiting for a second officer


async def enter(
    session: AsyncSession, actor: Actor, poll_id: int, rows: list[tuple[int, CardCredential, Answers]]
) -> PaperEntry:
    """Enter paper ballots, given as (line, the card's credential, answers): spend their codes, then
    count them, or hold them when the pilot asks for a second officer."""
    poll = await get_poll(session, actor, poll_id, Permission.MANAGE_PILOT)
    if poll.closes_at is not None and utcnow() >= poll.closes_at:
        raise PollNotOpen("This poll has closed")
    definition = poll_definition(poll)
    votes = [
        PaperVote(definition, poll.assurance, card.digest, card.unwrap, check_ballot(definition, a), line)
        for line, card, a in rows
    ]
    accepted, refused = await spend_codes(session, votes, await ballot_key(session))
    entry = PaperEntry(refused=[(v.line, problem) for v, problem in refused])
    if not accepted:
        return entry
    pilot = await session.get(Pilot, poll.pilot_id)
    details: dict[str, object] = {"ballots": len(accepted), "refused": len(refused)}
    if pilot is not None and pilot.paper_second_officer:
        batch = _hold(poll, actor, accepted)
        session.add(batch)
        await session.flush()
        entry.held = HeldBatch(batch.id, len(accepted), actor.staff_id, actor.email, batch.entered_at, [])
        details |= {"batch": batch.id, "held": True}
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
        entered_by_id=actor.staff_id,
        entered_at=utcnow(),
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


async def held_batches(session: AsyncSession, poll_id: int) -> list[HeldBatch]:
    query = (
        select(PaperBatch, Staff.email)
        .outerjoin(Staff, Staff.id == PaperBatch.entered_by_id)
        .where(PaperBatch.poll_id == poll_id)
        .order_by(PaperBatch.id)
    )
    return [_held(batch, email) for batch, email in (await session.execute(query)).all()]


def _held(batch: PaperBatch, email: str | None) -> HeldBatch:
    who = email or f"staff member {batch.entered_by_id}"
    return HeldBatch(batch.id, len(batch.ballots), batch.entered_by_id, who, batch.entered_at, batch.ballots)


def _named(batches: list[HeldBatch]) -> str:
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


async def _decide(
    session: AsyncSession, actor: Actor, poll_id: int, batch_id: int
) -> tuple[Poll, HeldBatch, list[str]]:
    """Take a held batch off the list (deleted: nothing of its ballots stays once decided);
    answers the poll, the batch and the nullifiers its codes spent."""
    poll = await get_poll(session, actor, poll_id, Permission.MANAGE_PILOT, lock=True)
    query = select(PaperBatch).where(PaperBatch.id == batch_id, PaperBatch.poll_id == poll.id)
    batch = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if batch is None:
        raise NotFound(
            "This poll has no batch of paper ballots waiting with this number: "
            "it may have been confirmed or rejected already (see the audit log)",
            code=ErrorCode.PAPER_BATCH_NOT_FOUND,
        )
    if batch.entered_by_id == actor.staff_id:
        raise Conflict(
            "You entered this batch: a different officer must confirm or reject it",
            code=ErrorCode.PAPER_SAME_OFFICER,
        )
    if poll.status != PollStatus.OPEN.value:
        raise PollNotOpen("Paper ballots are confirmed while the poll is open")
    entered_by = await session.get(Staff, batch.entered_by_id)
    held = _held(batch, entered_by.email if entered_by is not None else None)
    spent = list(batch.spent)
    await session.delete(batch)
    return poll, held, spent


def _details(batch: HeldBatch) -> dict[str, object]:
    return {"batch": batch.id, "ballots": batch.count, "entered_by": batch.entered_by}


async def confirm(session: AsyncSession, actor: Actor, poll_id: int, batch_id: int) -> list[PaperVote]:
    """A second officer has checked the batch against the paper: its ballots go in the count."""
    poll, batch, _ = await _decide(session, actor, poll_id, batch_id)
    definition = poll_definition(poll)
    votes = [
        PaperVote(definition, poll.assurance, "", "", b["answers"], area_id=b["area_id"])
        for b in batch.ballots
    ]
    for vote in votes:
        vote.tracker = new_tracker(poll.id, vote.answers)
    await store_ballots(session, votes)
    await _audit(session, actor, poll, "paper.confirm", _details(batch))
    return votes


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", "Say why the batch is rejected (what does not match the paper)")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.one("reason", f"Keep the reason to {MAX_REASON} characters")
    return reason


async def reject(session: AsyncSession, actor: Actor, poll_id: int, batch_id: int, reason: str) -> HeldBatch:
    """The batch does not match the paper: nothing of it is counted and its codes can vote again
    (so the paper can be entered afresh)."""
    reason = check_reason(reason)
    poll, batch, spent = await _decide(session, actor, poll_id, batch_id)
    if spent:
        await session.execute(
            delete(Nullifier).where(Nullifier.poll_id == poll.id, Nullifier.value.in_(spent))
        )
    await _audit(session, actor, poll, "paper.reject", _details(batch) | {"reason": reason})
    return batch
