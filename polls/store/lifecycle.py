"""A poll's lifecycle steps (open, close, review, publish...), each audited, with what follows
from it in the same transaction: the official count (polls.store.results)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from polls.domain import polls as lifecycle
from polls.domain.access import SYSTEM, Actor, Permission
from polls.domain.polls import Action, PollStatus
from polls.store import audit, paper
from polls.store import polls as poll_store
from polls.store.models import Poll, utcnow
from polls.store.results import after_transition


async def transition(
    session: AsyncSession,
    actor: Actor | None,
    poll_id: int,
    action: Action,
    now: datetime | None = None,
) -> Poll:
    """Move a poll one lifecycle step; ``actor`` None means the scheduler."""
    now = now or utcnow()
    poll = await poll_store.get_poll(session, actor, poll_id, Permission.MANAGE_PILOT, lock=True)
    before = poll.status
    if action is Action.CLOSE:
        await paper.require_none_held(session, poll.id)  # under the row lock, so none slips in
    poll.status = lifecycle.next_status(poll_store.facts(poll), action, now).value
    await session.flush()
    await audit.record(
        session,
        actor=actor.email if actor else SYSTEM,
        action=f"poll.{action.value}",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        before={"status": before},
        after={"status": poll.status},
    )
    # Official results are counted in this same transaction, under the row lock.
    await after_transition(session, poll, actor, now)
    return poll


async def due_polls(session: AsyncSession, now: datetime) -> list[tuple[int, Action]]:
    """Scheduled polls whose opening time has come and open polls whose closing time has."""
    query = (
        select(Poll)
        .where(
            ((Poll.status == PollStatus.SCHEDULED.value) & (Poll.opens_at <= now))
            | ((Poll.status == PollStatus.OPEN.value) & (Poll.closes_at <= now))
        )
        .options(selectinload(Poll.questions))
    )
    due = []
    for poll in (await session.scalars(query)).all():
        action = lifecycle.due_action(poll_store.facts(poll), now)
        if action is not None:
            due.append((poll.id, action))
    return due
