"""Staff accounts: creation, sign-in checks and the roles that make an Actor."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.pilots import Role
from polls.errors import Conflict, ErrorCode, ValidationFailed
from polls.store import audit, sign_ins
from polls.store.models import Staff, StaffRole
from polls.tokens import password_fingerprint

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")
MIN_PASSWORD = 12


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed.one("password", f"Use at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_staff(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    password: str,
    site_admin: bool = False,
    actor: str,
) -> Staff:
    email = normalise_email(email)
    if "@" not in email:
        raise ValidationFailed.one("email", "Enter an email address like name@council.gov.uk")
    if not name.strip():
        raise ValidationFailed.one("name", "Enter a name")
    if await find_by_email(session, email) is not None:
        raise Conflict(f"There is already a staff account for {email}", code=ErrorCode.STAFF_EXISTS)
    staff = Staff(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        is_site_admin=site_admin,
    )
    session.add(staff)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="staff.create",
        target=f"staff:{staff.id}",
        after={"email": email, "name": staff.name, "site_admin": site_admin},
    )
    return staff


async def find_by_email(session: AsyncSession, email: str) -> Staff | None:
    query = select(Staff).where(func.lower(Staff.email) == normalise_email(email))
    return (await session.execute(query)).scalar_one_or_none()


async def check_password(session: AsyncSession, email: str, password: str) -> Staff | None:
    """The active staff member with this email and password, or None (in constant-ish time)."""
    staff = await find_by_email(session, email)
    stored = staff.password_hash if staff is not None and staff.active else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if staff is None or not staff.active:
        return None
    if _hasher.check_needs_rehash(stored):
        staff.password_hash = _hasher.hash(password)
    return staff


async def invited_account(session: AsyncSession, staff_id: int, fingerprint: str) -> Staff | None:
    """The account an invitation names, while the invitation can still set its password (its
    fingerprint is of the password the account has now); else None."""
    staff = await session.get(Staff, staff_id)
    if staff is None or password_fingerprint(staff.password_hash) != fingerprint:
        return None
    return staff


async def signed_in_actor(session: AsyncSession, staff_id: int, fingerprint: str, key: str) -> Actor | None:
    """The actor a staff session names, while the session has not been ended, its password is
    the one signed in with (a changed password signs every session out) and the account is
    active; else None."""
    staff = await session.get(Staff, staff_id)
    if staff is None or password_fingerprint(staff.password_hash) != fingerprint:
        return None
    if not key or not await sign_ins.is_live(session, staff_id, key):
        return None
    return await load_actor(session, staff.id)


async def load_actor(session: AsyncSession, staff_id: int) -> Actor | None:
    staff = await session.get(Staff, staff_id)
    if staff is None or not staff.active:
        return None
    rows = await session.execute(
        select(StaffRole.pilot_id, StaffRole.role).where(
            StaffRole.staff_id == staff_id, StaffRole.pending.is_(False)
        )
    )
    return Actor(
        staff_id=staff.id,
        email=staff.email,
        name=staff.name,
        is_site_admin=staff.is_site_admin,
        roles={pilot_id: Role(role) for pilot_id, role in rows.all()},
    )
