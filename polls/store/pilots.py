"""Pilots, areas and staff roles: reading them and changing them (always with an audit entry)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.pilots import (
    AreaImport,
    AreaSpec,
    PilotSpec,
    Role,
    RowError,
    StaffRoleSpec,
    row_errors_as_field_errors,
)
from polls.errors import Conflict, ErrorCode, Forbidden, NotFound, ValidationFailed
from polls.store import audit
from polls.store.models import Area, Pilot, Staff, StaffRole, poll_areas
from polls.store.staff import find_by_email, hash_password


def pilot_snapshot(pilot: Pilot) -> dict[str, Any]:
    return {
        "id": pilot.id,
        "name": pilot.name,
        "region": pilot.region,
        "council": pilot.council,
        "languages": list(pilot.languages),
        "starts_on": pilot.starts_on.isoformat(),
        "ends_on": pilot.ends_on.isoformat(),
        "contact_email": pilot.contact_email,
        "contact_phone": pilot.contact_phone,
        "accessibility_url": pilot.accessibility_url,
        "accessibility_statement": pilot.accessibility_statement,
        "paper_second_officer": pilot.paper_second_officer,
    }


def area_snapshot(area: Area) -> dict[str, Any]:
    return {"id": area.id, "name": area.name, "code": area.code, "postcodes": list(area.postcodes)}


def role_snapshot(role: StaffRole) -> dict[str, Any]:
    return {
        "staff_id": role.staff_id,
        "email": role.staff.email,
        "name": role.shown_name,
        "role": role.role,
    }


def _apply_pilot(pilot: Pilot, spec: PilotSpec) -> None:
    pilot.name = spec.name
    pilot.region = spec.region
    pilot.council = spec.council
    pilot.languages = list(spec.languages)
    pilot.starts_on = spec.starts_on
    pilot.ends_on = spec.ends_on
    pilot.contact_email = str(spec.contact_email)
    pilot.contact_phone = spec.contact_phone
    pilot.accessibility_url = str(spec.accessibility_url) if spec.accessibility_url else None
    pilot.accessibility_statement = spec.accessibility_statement
    pilot.paper_second_officer = spec.paper_second_officer


async def list_pilots(session: AsyncSession, actor: Actor) -> list[Pilot]:
    query = select(Pilot).order_by(Pilot.name)
    if not actor.is_site_admin:
        query = query.where(Pilot.id.in_(list(actor.roles)))
    return list((await session.scalars(query)).all())


async def pilots_by_name(session: AsyncSession) -> list[Pilot]:
    """Every pilot, for the front page."""
    return list((await session.scalars(select(Pilot).order_by(Pilot.name))).all())


async def find_pilot(session: AsyncSession, pilot_id: int) -> Pilot | None:
    """The pilot, whoever asks: for public pages and for the pilot of a poll already found."""
    return await session.get(Pilot, pilot_id)


async def get_pilot(session: AsyncSession, actor: Actor, pilot_id: int, permission: Permission) -> Pilot:
    """The pilot, once the actor is known to hold ``permission`` on it (404 before 403: ids leak nothing)."""
    pilot = await session.get(Pilot, pilot_id)
    if pilot is None or not actor.can(Permission.VIEW_PILOT, pilot_id):
        raise NotFound("There is no such pilot", code=ErrorCode.PILOT_NOT_FOUND)
    actor.require(permission, pilot_id)
    return pilot


async def create_pilot(session: AsyncSession, actor: Actor, spec: PilotSpec) -> Pilot:
    actor.require_site_admin()
    pilot = Pilot()
    _apply_pilot(pilot, spec)
    session.add(pilot)
    await session.flush()
    # Whoever creates a pilot administers it, so it never starts without an admin.
    session.add(StaffRole(pilot_id=pilot.id, staff_id=actor.staff_id, role=Role.COUNCIL_ADMIN))
    await audit.record(
        session,
        actor=actor.email,
        action="pilot.create",
        target=f"pilot:{pilot.id}",
        pilot_id=pilot.id,
        after=pilot_snapshot(pilot),
    )
    return pilot


async def update_pilot(session: AsyncSession, actor: Actor, pilot_id: int, spec: PilotSpec) -> Pilot:
    pilot = await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    before = pilot_snapshot(pilot)
    _apply_pilot(pilot, spec)
    after = pilot_snapshot(pilot)
    if after != before:
        await audit.record(
            session,
            actor=actor.email,
            action="pilot.update",
            target=f"pilot:{pilot.id}",
            pilot_id=pilot.id,
            before=before,
            after=after,
        )
    return pilot


# Areas


async def list_areas(session: AsyncSession, pilot_id: int) -> list[Area]:
    query = select(Area).where(Area.pilot_id == pilot_id).order_by(Area.name)
    return list((await session.scalars(query)).all())


async def area_names(session: AsyncSession, pilot_id: int) -> dict[int, str]:
    """The pilot's areas by id, in the order of their names (without their postcodes)."""
    query = select(Area.id, Area.name).where(Area.pilot_id == pilot_id).order_by(Area.name)
    return {area_id: name for area_id, name in (await session.execute(query)).all()}


async def get_area(
    session: AsyncSession, actor: Actor, pilot_id: int, area_id: int, permission: Permission
) -> Area:
    await get_pilot(session, actor, pilot_id, permission)
    return await area_in_pilot(session, pilot_id, area_id)


async def area_in_pilot(session: AsyncSession, pilot_id: int, area_id: int) -> Area:
    """The area, once known to belong to the pilot (whose access the caller has checked)."""
    area = await session.get(Area, area_id)
    if area is None or area.pilot_id != pilot_id:
        raise NotFound("There is no such area in this pilot", code=ErrorCode.AREA_NOT_FOUND)
    return area


async def _code_taken(session: AsyncSession, pilot_id: int, code: str, except_id: int | None = None) -> bool:
    query = select(Area.id).where(Area.pilot_id == pilot_id, Area.code == code)
    found = (await session.execute(query)).scalar_one_or_none()
    return found is not None and found != except_id


async def add_area(session: AsyncSession, actor: Actor, pilot_id: int, spec: AreaSpec) -> Area:
    await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    if await _code_taken(session, pilot_id, spec.code):
        raise ValidationFailed.one("code", f"Another area in this pilot already has the code {spec.code}")
    area = Area(pilot_id=pilot_id, name=spec.name, code=spec.code, postcodes=list(spec.postcodes))
    session.add(area)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="area.create",
        target=f"area:{area.id}",
        pilot_id=pilot_id,
        after=area_snapshot(area),
    )
    return area


async def update_area(
    session: AsyncSession, actor: Actor, pilot_id: int, area_id: int, spec: AreaSpec
) -> Area:
    area = await get_area(session, actor, pilot_id, area_id, Permission.MANAGE_PILOT)
    if await _code_taken(session, pilot_id, spec.code, except_id=area.id):
        raise ValidationFailed.one("code", f"Another area in this pilot already has the code {spec.code}")
    before = area_snapshot(area)
    area.name, area.code, area.postcodes = spec.name, spec.code, list(spec.postcodes)
    await audit.record(
        session,
        actor=actor.email,
        action="area.update",
        target=f"area:{area.id}",
        pilot_id=pilot_id,
        before=before,
        after=area_snapshot(area),
    )
    return area


async def delete_area(session: AsyncSession, actor: Actor, pilot_id: int, area_id: int) -> None:
    area = await get_area(session, actor, pilot_id, area_id, Permission.MANAGE_PILOT)
    in_use = await session.execute(
        select(poll_areas.c.poll_id).where(poll_areas.c.area_id == area_id).limit(1)
    )
    if in_use.first() is not None:
        raise Conflict("A poll is limited to this area; change the poll first", code=ErrorCode.AREA_IN_USE)
    before = area_snapshot(area)
    await session.delete(area)
    await audit.record(
        session,
        actor=actor.email,
        action="area.delete",
        target=f"area:{area_id}",
        pilot_id=pilot_id,
        before=before,
    )


async def import_areas(session: AsyncSession, actor: Actor, pilot_id: int, parsed: AreaImport) -> list[Area]:
    """Add every area of a checked CSV, or none: a file with any bad row changes nothing."""
    await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)

    errors = list(parsed.errors)
    existing = {a.code for a in await list_areas(session, pilot_id)}
    for line, spec in parsed.rows:
        if spec.code in existing:
            errors.append(RowError(line, "code", f"An area with code {spec.code} already exists"))
    if errors:
        raise ValidationFailed(
            row_errors_as_field_errors(errors),
            f"{len(errors)} problem(s) in the file; nothing was imported",
        )
    areas = [
        Area(pilot_id=pilot_id, name=s.name, code=s.code, postcodes=list(s.postcodes)) for _, s in parsed.rows
    ]
    session.add_all(areas)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="area.import",
        target=f"pilot:{pilot_id}",
        pilot_id=pilot_id,
        after=[area_snapshot(a) for a in areas],
    )
    return areas


# Staff roles


async def list_roles(session: AsyncSession, pilot_id: int) -> list[StaffRole]:
    query = select(StaffRole).where(StaffRole.pilot_id == pilot_id).join(Staff).order_by(Staff.name)
    return list((await session.scalars(query)).all())


async def set_role(
    session: AsyncSession, actor: Actor, pilot_id: int, spec: StaffRoleSpec, *, name: str = ""
) -> tuple[StaffRole, bool]:
    """Give someone a role in the pilot, creating their account if needed.

    Returns the role and whether the person was invited (new to the pilot: they get an
    invitation link). A council admin adding an account that already exists gets the same
    answer as for a new one, and the role waits for its owner to accept (``pending``): adding
    people must not tell who has an account, or whose it is.
    """
    await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    display = name.strip() or str(spec.email).split("@")[0]
    staff = await find_by_email(session, str(spec.email))
    role = None if staff is None else await _role_of(session, pilot_id, staff.id)
    invited = role is None
    existed = staff is not None
    if staff is None:
        staff = await _new_account(session, actor, pilot_id, str(spec.email), display)
    elif role is None:
        hash_password(secrets.token_urlsafe(32))  # take as long as creating an account does
    before = role_snapshot(role) if role else None
    if role is None:
        role = StaffRole(pilot_id=pilot_id, staff_id=staff.id, role=spec.role.value)
        if existed and not actor.is_site_admin:
            role.pending, role.invited_name = True, display
        session.add(role)
    else:
        _check_may_change(actor, role, spec.role)
        role.role = spec.role.value
    await session.flush()
    await session.refresh(role, ["staff"])
    await audit.record(
        session,
        actor=actor.email,
        action="role.set",
        target=f"staff:{staff.id}",
        pilot_id=pilot_id,
        before=before,
        after=role_snapshot(role),
    )
    return role, invited


async def _role_of(session: AsyncSession, pilot_id: int, staff_id: int) -> StaffRole | None:
    query = select(StaffRole).where(StaffRole.pilot_id == pilot_id, StaffRole.staff_id == staff_id)
    return (await session.execute(query)).scalar_one_or_none()


async def _new_account(session: AsyncSession, actor: Actor, pilot_id: int, email: str, name: str) -> Staff:
    # Nobody knows this password; the invitation link lets them choose their own.
    staff = Staff(email=email.lower(), name=name, password_hash=hash_password(secrets.token_urlsafe(32)))
    session.add(staff)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="staff.create",
        target=f"staff:{staff.id}",
        pilot_id=pilot_id,
        after={"email": staff.email, "name": staff.name},
    )
    return staff


def _check_may_change(actor: Actor, role: StaffRole, new_role: Role | None) -> None:
    """A site admin's role is for site admins to change; nobody demotes or removes themselves."""
    if actor.is_site_admin:
        return
    if role.staff.is_site_admin and not role.pending:
        raise Forbidden("Only a site admin can change a site admin's role")
    if role.staff_id == actor.staff_id and new_role != Role.COUNCIL_ADMIN:
        message = (
            "You cannot remove yourself from a pilot"
            if new_role is None
            else "You cannot remove your own admin role"
        )
        raise Conflict(message, code=ErrorCode.OWN_ADMIN_ROLE)


async def accept_role(session: AsyncSession, staff_id: int, pilot_id: int, *, accept: bool) -> None:
    """The invited person says yes (the role starts) or no (it is deleted)."""
    role = await _role_of(session, pilot_id, staff_id)
    if role is None or not role.pending:
        raise NotFound("There is no invitation to that pilot", code=ErrorCode.ROLE_NOT_FOUND)
    before = role_snapshot(role)
    if accept:
        role.pending, role.invited_name = False, None
    else:
        await session.delete(role)
    await audit.record(
        session,
        actor=role.staff.email,
        action="role.accept" if accept else "role.decline",
        target=f"staff:{staff_id}",
        pilot_id=pilot_id,
        before=before,
    )


async def pending_invitations(session: AsyncSession, staff_id: int) -> list[tuple[Pilot, StaffRole]]:
    query = (
        select(Pilot, StaffRole)
        .join(StaffRole, StaffRole.pilot_id == Pilot.id)
        .where(StaffRole.staff_id == staff_id, StaffRole.pending.is_(True))
        .order_by(Pilot.name)
    )
    return [(pilot, role) for pilot, role in (await session.execute(query)).all()]


async def remove_role(session: AsyncSession, actor: Actor, pilot_id: int, staff_id: int) -> None:
    await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    role = await _role_of(session, pilot_id, staff_id)
    if role is None:
        raise NotFound("That person has no role in this pilot", code=ErrorCode.ROLE_NOT_FOUND)
    _check_may_change(actor, role, None)
    before = role_snapshot(role)
    await session.delete(role)
    await audit.record(
        session,
        actor=actor.email,
        action="role.remove",
        target=f"staff:{staff_id}",
        pilot_id=pilot_id,
        before=before,
    )
