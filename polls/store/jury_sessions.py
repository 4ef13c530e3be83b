"""Jury sessions and their event logs: made, read and appended to (moderator changes audited).

Appending locks the session row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's writers
already queue behind ``BEGIN IMMEDIATE``) and numbers the new events from its ``last_seq``, so
any number of app instances write one gapless log. A command is decided inside that lock, on
the state caught up to the log's end, so two instances never decide on different pasts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.juries import JurorStatus, JuryStatus
from polls.domain.jury_room import Event, RoomState, created, fold_in_place, replay
from polls.errors import Conflict, ErrorCode, NotFound
from polls.store import audit
from polls.store.db import Database
from polls.store.models import Juror, Jury, JuryEvent, JurySecretTally, JurySession, utcnow


async def accepted_jurors(session: AsyncSession, jury_id: int) -> list[Juror]:
    """Who sits on the jury now: the jurors who accepted, by seat."""
    query = (
        select(Juror)
        .where(Juror.jury_id == jury_id, Juror.status == JurorStatus.ACCEPTED)
        .order_by(Juror.seat, Juror.id)
    )
    return list((await session.scalars(query)).all())


def juror_name(juror: Juror) -> str:
    return juror.display_name or f"Juror {juror.seat or juror.position}"


async def panel(session: AsyncSession, jury_id: int) -> dict[int, str]:
    """The jurors who accepted, by id, with the names they chose."""
    return {j.id: juror_name(j) for j in await accepted_jurors(session, jury_id)}


async def create_session(session: AsyncSession, actor: Actor, jury_id: int, title: str) -> JurySession:
    """A new session for the jury, its log opened with the panel as it stands. The first session
    of a drawn or inviting jury puts it in session; a reported jury's report is final."""
    # Locked, so a report being published meanwhile either sees this session or refuses it.
    jury = await session.get(Jury, jury_id, with_for_update=True, populate_existing=True)
    if jury is None or not actor.can(Permission.RUN_JURY, jury.pilot_id):
        raise NotFound("There is no such jury")
    if jury.status == JuryStatus.REPORTED:
        raise Conflict(
            "The jury's report is published, so it can have no more sessions", code=ErrorCode.JURY_REPORTED
        )
    jurors = await panel(session, jury.id)
    first = created(title, jury.remit, jury.threshold, jurors, now=utcnow().timestamp())
    row = JurySession(jury_id=jury.id, title=title, status="waiting", last_seq=1, created_by=actor.email)
    session.add(row)
    await session.flush()
    session.add(_row(row.id, first, 1))
    await audit.record(
        session,
        actor=actor.email,
        action="jury_session.create",
        target=f"jury_session:{row.id}",
        pilot_id=jury.pilot_id,
        after={"jury_id": jury.id, "title": title, "jurors": len(jurors)},
    )
    if jury.status in (JuryStatus.DRAWN, JuryStatus.INVITING):
        before, jury.status = jury.status, JuryStatus.IN_SESSION
        await audit.record(
            session,
            actor=actor.email,
            action="jury.in_session",
            target=f"jury:{jury.id}",
            pilot_id=jury.pilot_id,
            before={"status": before},
            after={"status": jury.status, "session_id": row.id},
        )
    return row


def _row(session_id: int, event: Event, seq: int) -> JuryEvent:
    return JuryEvent(
        session_id=session_id,
        seq=seq,
        type=event.type,
        payload=event.data,
        at=event.at,
        created_at=datetime.fromtimestamp(event.at, UTC),
    )


def _event(row: JuryEvent) -> Event:
    return Event(row.type, dict(row.payload), row.at, row.seq)


async def get_session(session: AsyncSession, session_id: int) -> JurySession:
    found = await session.get(JurySession, session_id)
    if found is None:
        raise NotFound("There is no such jury session")
    return found


async def sessions_of(session: AsyncSession, jury_id: int) -> list[JurySession]:
    query = select(JurySession).where(JurySession.jury_id == jury_id).order_by(JurySession.id)
    return list((await session.scalars(query)).all())


async def events(
    session: AsyncSession, session_id: int, *, after: int = 0, upto: int | None = None
) -> list[Event]:
    query = select(JuryEvent).where(JuryEvent.session_id == session_id, JuryEvent.seq > after)
    if upto is not None:
        query = query.where(JuryEvent.seq <= upto)
    return [_event(row) for row in (await session.scalars(query.order_by(JuryEvent.seq))).all()]


async def load_state(session: AsyncSession, session_id: int) -> RoomState:
    return replay(await events(session, session_id))


Decider = Callable[[RoomState], Sequence[Event]]


async def _secret_tallies(session: AsyncSession, session_id: int) -> dict[int, dict[str, int]]:
    query = select(JurySecretTally).where(JurySecretTally.session_id == session_id)
    return {
        t.recommendation: {"yes": t.yes, "no": t.no, "abstain": t.abstain}
        for t in (await session.scalars(query)).all()
    }


async def _count_secretly(session: AsyncSession, session_id: int, event: Event) -> None:
    """Keep a secret vote's running tally: made when it opens, counted into as jurors vote (the
    choice never reaches the log), deleted when it closes (its counts are then in the log)."""
    rec = event.data.get("recommendation")
    where = (JurySecretTally.session_id == session_id, JurySecretTally.recommendation == rec)
    if event.type == "vote_opened" and event.data.get("ballot", "secret") == "secret":
        session.add(JurySecretTally(session_id=session_id, recommendation=rec, yes=0, no=0, abstain=0))
        await session.flush()
    elif event.sealed is not None:
        column = getattr(JurySecretTally, event.sealed)
        await session.execute(update(JurySecretTally).where(*where).values({column: column + 1}))
    elif event.type == "vote_closed" and "counts" in event.data:
        await session.execute(delete(JurySecretTally).where(*where))


async def append(
    db: Database,
    session_id: int,
    state: RoomState,
    decide: Decider,
    *,
    audit_actor: str | None = None,
) -> tuple[list[Event], RoomState]:
    """Decide on the state at the log's end and append what was decided, in one transaction.

    ``state`` is the caller's folded state (possibly behind; it is not changed). Returns the
    stored events (numbered) and the state after them. ``audit_actor`` (a moderator's email)
    writes one audit entry per event in the same transaction; jurors' commands pass None, so
    no vote ever reaches the audit log. A secret vote's choice (``Event.sealed``) is counted into
    the vote's running tally, never written with the event. CommandRefused from ``decide`` rolls
    everything back.
    """
    current = replay([], state)  # a copy taken now: the caller's state may move on meanwhile
    async with db.begin() as session:
        stored = await append_in(session, session_id, current, decide, audit_actor=audit_actor)
    return stored, current


async def append_in(
    session: AsyncSession,
    session_id: int,
    current: RoomState,
    decide: Decider,
    *,
    audit_actor: str | None = None,
) -> list[Event]:
    """``append`` inside the caller's transaction; ``current`` is brought to the log's end."""
    query = select(JurySession).where(JurySession.id == session_id).with_for_update(of=JurySession)
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        raise NotFound("There is no such jury session")
    if current.seq > row.last_seq:
        raise RuntimeError(f"state at {current.seq} is ahead of the log at {row.last_seq}")
    fold_in_place(current, await events(session, session_id, after=current.seq))
    if any(r.secret and r.status == "voting" for r in current.recommendations):
        current.sealed_tallies = await _secret_tallies(session, session_id)
    try:
        decided = decide(current)
    finally:
        current.sealed_tallies = {}
    stored = []
    for event in decided:
        row.last_seq += 1
        stored.append(Event(event.type, event.data, event.at, row.last_seq))
        session.add(_row(session_id, event, row.last_seq))
        await _count_secretly(session, session_id, event)
    fold_in_place(current, stored)
    row.status = current.status
    if audit_actor is not None:
        for event in stored:
            await audit.record(
                session,
                actor=audit_actor,
                action=f"jury_session.{event.type}",
                target=f"jury_session:{session_id}",
                pilot_id=row.jury.pilot_id,
                after={"seq": event.seq, **event.data},
            )
    return stored
