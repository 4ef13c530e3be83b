"""The outbox: queueing a message in the caller's transaction, claiming due ones safely across
instances, recording what became of each, and the officers' views of them.

A claim is a conditional UPDATE (``WHERE status is still claimable``) that only one worker can
win: on SQLite writers are serialised anyway, and on PostgreSQL the candidate rows are first
locked ``FOR UPDATE SKIP LOCKED`` so racing instances take different rows instead of waiting.
A claim is a lease: a row still ``sending`` after it (its instance died mid-send) is due again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.contacts import masked
from polls.domain.messages import (
    RESIDENTS,
    RETRYABLE,
    Channel,
    Status,
    after_failure,
    check_personalisation,
    retry_delay,
)
from polls.errors import Conflict, ErrorCode, NotFound
from polls.store import audit
from polls.store.db import Database
from polls.store.models import Message, utcnow

LEASE = timedelta(minutes=2)  # longer than any one send takes, with its provider's timeouts


@dataclass(frozen=True)
class Claimed:
    """A message a worker holds: what it needs to send it."""

    id: int
    channel: str
    recipient: str
    template: str
    language: str
    personalisation: Mapping[str, Any]
    attempts: int
    purpose: str


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    recipient: str,
    template: str,
    personalisation: Mapping[str, Any],
    purpose: str,
    language: str = "en",
    pilot_id: int | None = None,
    jury_id: int | None = None,
    juror_id: int | None = None,
    poll_id: int | None = None,
    flush: bool = True,
) -> Message:
    """Add a message to the outbox in ``session``'s transaction: it is sent only if that commits.
    A missing personalisation field is refused here, never discovered at sending."""
    Channel(channel)
    check_personalisation(template, {k: str(v) for k, v in personalisation.items()})
    message = Message(
        channel=channel,
        recipient=recipient,
        template=template,
        language=language,
        personalisation=dict(personalisation),
        status=Status.QUEUED.value,
        attempts=0,
        next_attempt_at=utcnow(),
        purpose=purpose,
        pilot_id=pilot_id,
        jury_id=jury_id,
        juror_id=juror_id,
        poll_id=poll_id,
    )
    session.add(message)
    if flush:  # gives the message its id; a caller queueing many at once may leave it to the commit
        await session.flush()
    return message


def _due(now: datetime) -> Any:
    waiting = and_(
        Message.status.in_([Status.QUEUED.value, Status.FAILED.value]), Message.next_attempt_at <= now
    )
    abandoned = and_(Message.status == Status.SENDING.value, Message.claimed_until < now)
    return or_(waiting, abandoned)


async def claim_due(db: Database, limit: int = 20, now: datetime | None = None) -> list[Claimed]:
    """Claim up to ``limit`` due messages for this worker; no other worker can claim them now."""
    now = now or utcnow()
    async with db.begin() as session:
        candidates = (
            select(Message.id)
            .where(_due(now))
            .order_by(Message.next_attempt_at, Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await session.execute(candidates)).scalars().all())
        if not ids:
            return []
        won = await session.execute(
            update(Message)
            .where(Message.id.in_(ids), _due(now))
            .values(
                status=Status.SENDING.value,
                claimed_until=now + LEASE,
                attempts=Message.attempts + 1,
                updated_at=now,
            )
            .returning(
                Message.id,
                Message.channel,
                Message.recipient,
                Message.template,
                Message.language,
                Message.personalisation,
                Message.attempts,
                Message.purpose,
            )
        )
        claimed = [Claimed(*row) for row in won.all()]
    return claimed


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: the provider's id, or the error and whether it is final."""

    message: Claimed
    provider_id: str | None = None
    error: str | None = None
    permanent: bool = False


async def record_outcomes(db: Database, outcomes: Sequence[Outcome], max_attempts: int) -> None:
    """Record a batch of attempts in one transaction (one write instead of one per message)."""
    if not outcomes:
        return
    async with db.begin() as session:
        for outcome in outcomes:
            if outcome.error is None:
                await _mark_sent(session, outcome.message, outcome.provider_id)
            else:
                status = after_failure(outcome.message.attempts, max_attempts, outcome.permanent)
                await _mark_failed(session, outcome.message, outcome.error, status)


async def _mark_sent(session: AsyncSession, message: Claimed, provider_id: str | None) -> None:
    values: dict[str, Any] = {
        "status": Status.SENT.value,
        "provider_id": provider_id,
        "sent_at": utcnow(),
        "claimed_until": None,
        "last_error": None,
    }
    if message.purpose in RESIDENTS:  # sent: keep no more of a resident than officers may see
        values.update(recipient=masked(message.recipient), personalisation={})
    await session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == Status.SENDING.value)
        .values(**values)
    )


async def _mark_failed(session: AsyncSession, message: Claimed, error: str, status: Status) -> None:
    """After a failed attempt: try again later with a longer wait, or give up (dead)."""
    await session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == Status.SENDING.value)
        .values(
            status=status.value,
            next_attempt_at=utcnow() + retry_delay(message.attempts),
            claimed_until=None,
            last_error=error[:300],
        )
    )


async def record_delivery(session: AsyncSession, provider_id: str, status: Status, error: str | None) -> bool:
    """A provider's delivery receipt; False if the message is not ours."""
    result = await session.execute(
        update(Message)
        .where(Message.provider_id == provider_id)
        .values(status=status.value, last_error=error)
        .returning(Message.id)
    )
    return result.first() is not None


async def retry(session: AsyncSession, message: Message) -> None:
    """An officer sends a failed, bounced or dead message again (attempts start afresh)."""
    if message.status not in RETRYABLE:
        raise Conflict(
            "Only failed, bounced or dead messages can be sent again",
            code=ErrorCode.MESSAGE_NOT_RETRYABLE,
        )
    message.status = Status.QUEUED.value
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.last_error = None


async def retry_for(session: AsyncSession, actor: Actor, message_id: int) -> Message:
    """An officer sends a message again: council admins of its pilot, or site admins for a message
    of no pilot. Audited."""
    message = await get_message(session, message_id, lock=True)
    allowed = (
        actor.is_site_admin
        if message.pilot_id is None
        else actor.can(Permission.MANAGE_PILOT, message.pilot_id)
    )
    if not allowed:  # 404 rather than 403: message ids leak nothing
        raise NotFound("There is no such message", code=ErrorCode.MESSAGE_NOT_FOUND)
    await retry(session, message)
    await audit.record(
        session,
        actor=actor.email,
        action="message.retry",
        target=f"message:{message.id}",
        pilot_id=message.pilot_id,
        after={"purpose": message.purpose},
    )
    return message


async def get_message(session: AsyncSession, message_id: int, *, lock: bool = False) -> Message:
    query = select(Message).where(Message.id == message_id)
    if lock:
        query = query.with_for_update()
    message = (await session.execute(query)).scalar_one_or_none()
    if message is None:
        raise NotFound("There is no such message", code=ErrorCode.MESSAGE_NOT_FOUND)
    return message


async def messages_of(
    session: AsyncSession, *, statuses: tuple[Status, ...] = (), limit: int = 500, **where: int
) -> list[Message]:
    """The messages of a jury (jury_id=...) or a poll (poll_id=...), newest first; only those
    in ``statuses`` if given."""
    query = select(Message).filter_by(**where).order_by(Message.id.desc()).limit(limit)
    if statuses:
        query = query.where(Message.status.in_([s.value for s in statuses]))
    return list((await session.execute(query)).scalars().all())


async def status_counts(session: AsyncSession, **where: int) -> dict[str, int]:
    query = select(Message.status, func.count()).filter_by(**where).group_by(Message.status)
    return {status: n for status, n in (await session.execute(query)).all()}
