"""Staff sessions kept in the database: started at sign-in, checked on each request, ended at
sign-out, on a password change, or by an admin's "sign out everywhere"."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.errors import NotFound
from polls.store import audit
from polls.store.models import SignIn, Staff, StaffRole, utcnow
from polls.tokens import STAFF_SESSION, password_fingerprint


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def start(db: AsyncSession, staff_id: int) -> str:
    """A new session for this person; returns the secret their cookie carries."""
    now = utcnow()
    await db.execute(delete(SignIn).where(SignIn.staff_id == staff_id, SignIn.expires_at < now))
    secret = secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=STAFF_SESSION.max_age)
    db.add(SignIn(id=_digest(secret), staff_id=staff_id, expires_at=expires))
    await db.flush()
    return secret


async def link_fingerprint(db: AsyncSession, staff: Staff) -> str:
    """What a one-time sign-in link is bound to: the password and the sessions the account has
    now. Signing in through the link adds a session, so the link cannot be used twice."""
    rows = await db.scalars(select(SignIn.id).where(SignIn.staff_id == staff.id).order_by(SignIn.id))
    seen = ":".join([password_fingerprint(staff.password_hash), *rows.all()])
    return _digest(seen)[:16]


async def start_from_link(db: AsyncSession, staff_id: int, fingerprint: str) -> tuple[Staff, str] | None:
    """Spend a sign-in link: a new session for its active account, if the link is still unused
    (its fingerprint is the account's now); else None. The account's row is locked meanwhile, so
    two uses at once cannot both see the fingerprint before either adds its session."""
    staff = await db.scalar(select(Staff).where(Staff.id == staff_id).with_for_update())
    if staff is None or not staff.active or await link_fingerprint(db, staff) != fingerprint:
        return None
    secret = await start(db, staff.id)
    await audit.record(db, actor=staff.email, action="staff.sign_in_by_link", target=f"staff:{staff.id}")
    return staff, secret


async def is_live(db: AsyncSession, staff_id: int, secret: str) -> bool:
    row = await db.get(SignIn, _digest(secret))
    return row is not None and row.staff_id == staff_id and row.expires_at > utcnow()


async def end(db: AsyncSession, secret: str) -> None:
    await db.execute(delete(SignIn).where(SignIn.id == _digest(secret)))


async def end_all(db: AsyncSession, staff_id: int) -> None:
    await db.execute(delete(SignIn).where(SignIn.staff_id == staff_id))


async def sign_out_everywhere(db: AsyncSession, actor: Actor, staff_id: int) -> None:
    """Ends every session of a staff member: themselves, a site admin, or an admin of a pilot
    they have a role in (never a site admin's sessions, unless by a site admin)."""
    staff = await db.get(Staff, staff_id)
    # One answer for "no such person" and "not yours": staff numbers are not to be probed.
    if staff is None:
        raise NotFound("There is nobody with that number whom you can sign out")
    if not _may_sign_out(actor, staff, await _pilots_of(db, staff_id, pending=False)):
        invited_to = await _pilots_of(db, staff_id, pending=True)
        if any(actor.can(Permission.MANAGE_PILOT, pilot_id) for pilot_id in invited_to):
            return  # invited, not yet accepted: not the admin's to sign out, and not to be told
        raise NotFound("There is nobody with that number whom you can sign out")
    await end_all(db, staff_id)
    await audit.record(db, actor=actor.email, action="staff.sign_out_everywhere", target=f"staff:{staff_id}")


async def _pilots_of(db: AsyncSession, staff_id: int, *, pending: bool) -> list[int]:
    query = select(StaffRole.pilot_id).where(StaffRole.staff_id == staff_id, StaffRole.pending.is_(pending))
    rows = await db.scalars(query)
    return list(rows.all())


def _may_sign_out(actor: Actor, staff: Staff, pilots: list[int]) -> bool:
    if actor.staff_id == staff.id or actor.is_site_admin:
        return True
    if staff.is_site_admin:
        return False
    return any(actor.can(Permission.MANAGE_PILOT, pilot_id) for pilot_id in pilots)
