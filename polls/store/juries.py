"""Juries and their selection by lot: the pool, the lottery, its publication, the draw (all audited).

Juror invitations are in ``polls.store.jurors``; computing the lottery (a solve in a worker
thread, its progress on the jury row) is in ``polls.store.lotteries``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.juries import (
    CHANGEABLE,
    PUBLIC,
    STATUS_LABELS,
    DrawSpec,
    FeatureProfile,
    JurorStatus,
    JuryKind,
    JurySpec,
    JuryStatus,
    panel_profile,
    require_status,
)
from polls.domain.sortition import (
    Lottery,
    Person,
    Pool,
    Quota,
    Quotas,
    draw,
    read_lottery,
)
from polls.domain.sortition.randomness import PublishSpec, fix_source, public_value
from polls.errors import Conflict, ErrorCode, NotFound
from polls.store import audit
from polls.store.models import Juror, Jury, PoolMember, utcnow
from polls.store.pilots import get_pilot

log = logging.getLogger("polls.juries")

STALE = timedelta(seconds=60)  # no progress written for this long: the solving instance is gone


def jury_snapshot(jury: Jury) -> dict[str, Any]:
    return {
        "id": jury.id,
        "pilot_id": jury.pilot_id,
        "title": jury.title,
        "remit": jury.remit,
        "kind": jury.kind,
        "size": jury.size,
        "threshold": jury.threshold,
        "households_apart": jury.households_apart,
        "status": jury.status,
    }


async def find_jury(session: AsyncSession, jury_id: int) -> Jury | None:
    """The jury, whoever asks: for pages reached by a juror's own link."""
    return await session.get(Jury, jury_id)


async def get_jury(
    session: AsyncSession, actor: Actor, jury_id: int, permission: Permission, *, lock: bool = False
) -> Jury:
    """The jury, once the actor holds ``permission`` in its pilot (404 before 403: ids leak nothing)."""
    jury = await session.get(Jury, jury_id, with_for_update=lock, populate_existing=lock)
    if jury is None or not actor.can(Permission.VIEW_PILOT, jury.pilot_id):
        raise NotFound("There is no such jury", code=ErrorCode.JURY_NOT_FOUND)
    actor.require(permission, jury.pilot_id)
    return jury


async def list_juries(session: AsyncSession, actor: Actor, pilot_id: int) -> list[Jury]:
    await get_pilot(session, actor, pilot_id, Permission.VIEW_PILOT)
    query = select(Jury).where(Jury.pilot_id == pilot_id).order_by(Jury.created_at, Jury.id)
    return list((await session.scalars(query)).all())


async def create_jury(session: AsyncSession, actor: Actor, pilot_id: int, spec: JurySpec) -> Jury:
    await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    jury = Jury(pilot_id=pilot_id, status=JuryStatus.SETTING_UP, quotas=[])
    _apply(jury, spec)
    session.add(jury)
    await session.flush()
    await audit_jury(session, actor, jury, "jury.create", after=jury_snapshot(jury))
    return jury


async def update_jury(session: AsyncSession, actor: Actor, jury_id: int, spec: JurySpec) -> Jury:
    """Title, remit and threshold may change until the report; size, kind and households only
    before publication (a computed lottery is then discarded, and the pool too when households
    are to be kept apart from now on)."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, set(JuryStatus) - {JuryStatus.REPORTED}, "change the jury")
    before = jury_snapshot(jury)
    selection = (JuryKind(jury.kind), jury.size, jury.households_apart)
    if (spec.kind, spec.size, spec.households_apart) != selection:
        require_status(jury.status, CHANGEABLE, "change the size, kind or households rule")
        refuse_while_solving(jury)
        discard_lottery(jury)
        if spec.households_apart and not jury.households_apart:
            # The pool was read without household columns: it must be uploaded again with them.
            await session.execute(delete(PoolMember).where(PoolMember.jury_id == jury.id))
            jury.quotas = []
    _apply(jury, spec)
    after = jury_snapshot(jury)
    if after != before:
        await audit_jury(session, actor, jury, "jury.update", before=before, after=after)
    return jury


def _apply(jury: Jury, spec: JurySpec) -> None:
    jury.title, jury.remit, jury.kind = spec.title, spec.remit, spec.kind.value
    jury.size, jury.threshold, jury.households_apart = spec.size, spec.threshold, spec.households_apart


async def audit_jury(
    session: AsyncSession,
    actor: Actor | str,
    jury: Jury,
    action: str,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    await audit.record(
        session,
        actor=actor if isinstance(actor, str) else actor.email,
        action=action,
        target=f"jury:{jury.id}",
        pilot_id=jury.pilot_id,
        before=before,
        after=after,
    )


def discard_lottery(jury: Jury) -> None:
    jury.lottery = jury.lottery_facts = jury.seed = jury.seed_sha256 = jury.computed_at = None
    jury.randomness_source = None
    jury.solve = None
    jury.status = JuryStatus.SETTING_UP


# The pool


async def replace_pool(session: AsyncSession, actor: Actor, jury_id: int, pool: Pool) -> Jury:
    """The uploaded pool and quotas replace any earlier ones, whole (the pool was checked in full)."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, CHANGEABLE, "upload a new pool")
    refuse_while_solving(jury)
    before = _pool_summary(jury.quotas, await pool_size(session, jury.id))
    await session.execute(delete(PoolMember).where(PoolMember.jury_id == jury.id))
    # Households are kept as hashes salted afresh for each upload and never stored: equal
    # addresses stay equal within the pool, and no address can be recovered or guessed.
    salt = secrets.token_bytes(16)
    categories = pool.quotas.categories
    rows = [
        {
            "jury_id": jury.id,
            "person_id": person.id,
            "position": position,
            "features": dict(zip(categories, person.features, strict=True)),
            "household": _household_key(salt, person.household),
        }
        for position, person in enumerate(pool.people, 1)
    ]
    for start in range(0, len(rows), 1000):
        await session.execute(insert(PoolMember), rows[start : start + 1000])
    jury.quotas = [
        {"category": q.category, "feature": q.feature, "min": q.min, "max": q.max} for q in pool.quotas.quotas
    ]
    discard_lottery(jury)
    await audit_jury(
        session, actor, jury, "jury.pool.upload", before=before, after=_pool_summary(jury.quotas, len(rows))
    )
    return jury


def _household_key(salt: bytes, household: str | None) -> str | None:
    if household is None:
        return None
    return hashlib.sha256(salt + household.encode()).hexdigest()[:32]


def _pool_summary(quotas: list[Any], people: int) -> dict[str, Any]:
    return {"people": people, "quotas": quotas}


async def pool_size(session: AsyncSession, jury_id: int) -> int:
    query = select(func.count()).select_from(PoolMember).where(PoolMember.jury_id == jury_id)
    return int((await session.execute(query)).scalar_one())


def quotas_of(jury: Jury) -> Quotas:
    return Quotas(
        tuple(Quota(q["category"], q["feature"], int(q["min"]), int(q["max"])) for q in jury.quotas)
    )


async def pool_members(session: AsyncSession, jury_id: int) -> list[PoolMember]:
    query = select(PoolMember).where(PoolMember.jury_id == jury_id).order_by(PoolMember.position)
    return list((await session.scalars(query)).all())


async def load_pool(session: AsyncSession, jury: Jury) -> Pool:
    quotas = quotas_of(jury)
    people = tuple(
        Person(m.person_id, tuple(str(m.features[c]) for c in quotas.categories), m.household)
        for m in await pool_members(session, jury.id)
    )
    return Pool(people, quotas)


# The lottery


def solve_is_running(jury: Jury, now: datetime | None = None) -> bool:
    solve = jury.solve or {}
    if solve.get("state") != "running":
        return False
    updated = datetime.fromisoformat(str(solve["updated_at"]))
    return (now or utcnow()) - updated < STALE


def refuse_while_solving(jury: Jury) -> None:
    if solve_is_running(jury):
        raise Conflict(
            "The lottery is being computed; wait for it to finish", code=ErrorCode.LOTTERY_COMPUTING
        )


def lottery_of(jury: Jury) -> Lottery:
    if jury.lottery is None:
        raise Conflict("The lottery has not been computed yet", code=ErrorCode.LOTTERY_MISSING)
    return read_lottery(jury.lottery)


async def publish_lottery(session: AsyncSession, actor: Actor, jury_id: int, spec: PublishSpec) -> Jury:
    """Make everyone's probability, the seed commitment and the source of the draw's public
    randomness public; from now on the selection is fixed."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, {JuryStatus.COMPUTED}, "publish the lottery")
    now = utcnow()
    jury.randomness_source = fix_source(spec, now)
    jury.status, jury.published_at = JuryStatus.PUBLISHED, now
    await audit_jury(
        session,
        actor,
        jury,
        "jury.lottery.publish",
        after={
            "seed_sha256": jury.seed_sha256,
            "lottery_sha256": (jury.lottery_facts or {}).get("lottery_sha256"),
            "randomness_source": jury.randomness_source,
        },
    )
    return jury


async def draw_jury(session: AsyncSession, actor: Actor, jury_id: int, spec: DrawSpec) -> Jury:
    """Reveal the seed and draw the panel and reserves; every juror row is made here. The public
    randomness must be what the source named at publication gives (ValidationFailed otherwise)."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, {JuryStatus.PUBLISHED}, "draw the panel")
    assert jury.seed is not None
    source = jury.randomness_source
    if source is None:
        raise Conflict(
            "The lottery was published without naming its public randomness",
            code=ErrorCode.RANDOMNESS_MISSING,
        )
    now = utcnow()
    value = public_value(source, spec.reveals, today=now.date())
    record = draw(lottery_of(jury), jury.seed, reserves=spec.reserves, public_randomness=value)
    record = replace(record, randomness={"source": source, "reveals": [r.strip() for r in spec.reveals]})
    members = {m.person_id: m.id for m in await pool_members(session, jury.id)}
    jurors = [
        Juror(
            jury_id=jury.id,
            pool_member_id=members[person],
            role="panel",
            position=seat,
            seat=seat,
            status=JurorStatus.WAITING,
        )
        for seat, person in enumerate(record.panel, 1)
    ] + [
        Juror(
            jury_id=jury.id,
            pool_member_id=members[person],
            role="reserve",
            position=n,
            status=JurorStatus.WAITING,
        )
        for n, person in enumerate(record.reserves, 1)
    ]
    session.add_all(jurors)
    jury.draw, jury.drawn_at, jury.status = record.to_json(), now, JuryStatus.DRAWN
    await session.flush()
    await audit_jury(session, actor, jury, "jury.draw", after=record.to_json())
    return jury


# What the public sees


@dataclass(frozen=True)
class PublicJury:
    id: int
    title: str
    remit: str
    kind: str
    size: int
    status: str
    status_label: str
    url: str


async def public_juries(session: AsyncSession, pilot_id: int) -> list[PublicJury]:
    """A pilot's juries whose lottery is public, oldest first, for the public pilot page."""
    query = (
        select(Jury)
        .where(Jury.pilot_id == pilot_id, Jury.status.in_([s.value for s in PUBLIC]))
        .order_by(Jury.created_at, Jury.id)
    )
    return [
        PublicJury(
            j.id,
            j.title,
            j.remit,
            j.kind,
            j.size,
            j.status,
            STATUS_LABELS[JuryStatus(j.status)],
            f"/juries/{j.id}",
        )
        for j in (await session.scalars(query)).all()
    ]


async def public_jury(session: AsyncSession, jury_id: int) -> Jury:
    jury = await session.get(Jury, jury_id)
    if jury is None or jury.status not in PUBLIC:
        raise NotFound("There is no such jury", code=ErrorCode.JURY_NOT_FOUND)
    return jury


async def drawn_profile(session: AsyncSession, jury: Jury) -> list[FeatureProfile]:
    """The panel as drawn, against the quotas and the pool."""
    members = await pool_members(session, jury.id)
    chosen = set((jury.draw or {}).get("panel", []))
    return panel_profile(
        quotas_of(jury), [m.features for m in members], [m.features for m in members if m.person_id in chosen]
    )


async def seated_profile(session: AsyncSession, jury: Jury) -> list[FeatureProfile]:
    """The panel as it stands (the jurors who accepted), against the quotas and the pool: for reports."""
    members = await pool_members(session, jury.id)
    query = select(Juror.pool_member_id).where(Juror.jury_id == jury.id, Juror.status == JurorStatus.ACCEPTED)
    accepted = set((await session.scalars(query)).all())
    return panel_profile(
        quotas_of(jury), [m.features for m in members], [m.features for m in members if m.id in accepted]
    )


def probabilities_rows(jury: Jury) -> Sequence[tuple[str, float]]:
    """Every pool member's published selection probability, by id."""
    return sorted((str(k), float(v)) for k, v in ((jury.lottery or {}).get("probabilities") or {}).items())
