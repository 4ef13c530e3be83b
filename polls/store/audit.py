"""The append-only audit log: every change by staff (or the scheduler), hash-chained."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.audit import AuditRecord, BrokenLink, chain_hash, verify_chain
from polls.store.models import AuditEntry, AuditHead, utcnow


def _jsonable(value: Any) -> Any:
    """Snapshot values (dates, enums) as plain JSON so the hash is stable across databases."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str,
    pilot_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction, so the change and its audit commit together."""
    # Locking the head row serialises appenders (PostgreSQL); SQLite's write lock does the same.
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())).scalar_one()
    at = utcnow().replace(microsecond=0)
    rec = AuditRecord(
        seq=head.seq + 1,
        at=at.isoformat(),
        actor=actor,
        pilot_id=pilot_id,
        action=action,
        target=target,
        before=_jsonable(before),
        after=_jsonable(after),
    )
    digest = chain_hash(head.hash, rec)
    entry = AuditEntry(
        seq=rec.seq,
        at=at,
        actor=actor,
        pilot_id=pilot_id,
        action=action,
        target=target,
        before=rec.before,
        after=rec.after,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq, head.hash = rec.seq, digest
    await session.flush()
    return entry


def as_record(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(
        seq=entry.seq,
        at=entry.at.isoformat(),
        actor=entry.actor,
        pilot_id=entry.pilot_id,
        action=entry.action,
        target=entry.target,
        before=entry.before,
        after=entry.after,
    )


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken: BrokenLink | None
    head_matches: bool


async def _all_entries(session: AsyncSession) -> AsyncIterator[tuple[AuditRecord, str, str]]:
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.seq))
    async for entry in result:
        yield as_record(entry), entry.prev_hash, entry.hash


async def verify(session: AsyncSession) -> ChainReport:
    """Walk the whole chain; also check the head row names its last entry (catches truncation)."""
    triples = [t async for t in _all_entries(session)]
    checked, broken = verify_chain(triples)
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one()
    last_hash = triples[-1][2] if triples else head.hash
    head_matches = head.seq == len(triples) and head.hash == last_hash
    return ChainReport(checked, broken, head_matches)


async def recent(session: AsyncSession, *, pilot_id: int | None, limit: int = 100) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if pilot_id is not None:
        query = query.where(AuditEntry.pilot_id == pilot_id)
    return list((await session.scalars(query)).all())


async def poll_moves(session: AsyncSession, pilot_id: int) -> dict[int, dict[str, datetime]]:
    """When each of a pilot's polls actually opened and closed (by hand or on schedule), from
    the audit log: {poll id: {"opened": at, "closed": at}}; the latest of each wins."""
    names = {"poll.open": "opened", "poll.close": "closed"}
    query = (
        select(AuditEntry.target, AuditEntry.action, AuditEntry.at)
        .where(AuditEntry.pilot_id == pilot_id, AuditEntry.action.in_(names))
        .order_by(AuditEntry.seq)
    )
    moves: dict[int, dict[str, datetime]] = {}
    for target, action, at in (await session.execute(query)).all():
        kind, _, number = target.partition(":")
        if kind == "poll" and number.isdigit():
            moves.setdefault(int(number), {})[names[action]] = at
    return moves
