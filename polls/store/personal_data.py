"""The personal data a jury's recruitment pool holds: one person's on request, and the whole
pool's erased once the jury has reported and the pilot's retention period has passed.

What a pool holds about a person: the council's id for them, their features (protected
characteristics, sealed at rest: polls.store.sealing), a keyed hash of their household, and if
they were drawn, their invitation's status and the name they chose for the room. Every export and
every erasure is an audit entry (who, when, which jury, how many), never the data itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.juries import JuryStatus
from polls.errors import ErrorCode, NotFound
from polls.store import audit
from polls.store.juries import audit_jury, get_jury
from polls.store.models import Juror, Jury, JuryReport, Pilot, PoolMember, utcnow
from polls.store.pilots import get_pilot

ERASED = "erased"


@dataclass(frozen=True)
class Erased:
    jury_id: int
    people: int


async def export_person(session: AsyncSession, actor: Actor, jury_id: int, person_id: str) -> dict[str, Any]:
    """Everything the jury's pool holds about one person (a subject access request), audited."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT)
    member = await session.scalar(
        select(PoolMember).where(PoolMember.jury_id == jury.id, PoolMember.person_id == person_id)
    )
    if member is None:
        raise NotFound("Nobody in this jury's pool has that id", code=ErrorCode.PERSON_NOT_FOUND)
    juror = await session.scalar(select(Juror).where(Juror.pool_member_id == member.id))
    held: dict[str, Any] = {
        "jury": {"id": jury.id, "title": jury.title},
        "person_id": member.person_id,
        "features": member.features,
        "household": "a keyed hash of the household's address" if member.household else None,
        "drawn": None,
    }
    if juror is not None:
        held["drawn"] = {
            "role": juror.role,
            "status": juror.status,
            "invited_at": juror.invited_at.isoformat() if juror.invited_at else None,
            "responded_at": juror.responded_at.isoformat() if juror.responded_at else None,
            "display_name": juror.display_name,
        }
    await audit_jury(session, actor, jury, "jury.pool.export_person", after={"person": "one, on request"})
    return held


async def set_retention(session: AsyncSession, actor: Actor, pilot_id: int, days: int) -> Pilot:
    """How many days after a jury reports its pool's personal data is kept (1 to 3650)."""
    pilot = await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    if not 1 <= days <= 3650:
        raise ValueError("days must be between 1 and 3650")
    before = pilot.personal_data_days
    pilot.personal_data_days = days
    await audit.record(
        session,
        actor=actor.email,
        action="pilot.personal_data_days",
        target=f"pilot:{pilot.id}",
        pilot_id=pilot.id,
        before={"days": before},
        after={"days": days},
    )
    return pilot


async def erase_due(session: AsyncSession, now: datetime | None = None) -> list[Erased]:
    """Erase the personal data of every pool whose jury reported more than its pilot's retention
    period ago. The pool's size stays (the published lottery and profiles need no one's data)."""
    now = now or utcnow()
    due = await session.execute(
        select(Jury, JuryReport.published_at, Pilot.personal_data_days)
        .join(JuryReport, JuryReport.jury_id == Jury.id)
        .join(Pilot, Pilot.id == Jury.pilot_id)
        .where(Jury.status == JuryStatus.REPORTED.value, Jury.personal_data_erased_at.is_(None))
        .with_for_update(of=Jury, skip_locked=True)
    )
    erased = []
    for jury, reported_at, days in due.all():
        if reported_at + timedelta(days=days) > now:
            continue
        members = (await session.scalars(select(PoolMember).where(PoolMember.jury_id == jury.id))).all()
        for member in members:
            member.person_id = f"{ERASED}-{member.id}"
            member.features = {}
            member.household = None
        for juror in (await session.scalars(select(Juror).where(Juror.jury_id == jury.id))).all():
            juror.display_name = None
        jury.personal_data_erased_at = now
        await audit_jury(
            session, "retention", jury, "jury.pool.erase", after={"people": len(members), "days": days}
        )
        erased.append(Erased(jury.id, len(members)))
    return erased
