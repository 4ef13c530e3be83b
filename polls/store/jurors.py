"""Jurors: invitations (signed, single-use, expiring), accepting and declining, reserves called in order.

An invitation link carries the juror's id and a nonce; the nonce is cleared when the person
answers, so a link works once. Rows are locked while an answer is recorded, so two answers to
one link (a double tap, two devices) record exactly one. A juror who declines, withdraws or lets
the invitation expire is replaced by the first reserve who keeps every quota (or, failing that,
the closest fit), whose invitation the officer then sends. A withdrawn juror also leaves the
panel of every jury session not yet ended.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.juries import SEATED, JurorStatus, JuryStatus, choose_replacement, require_status
from polls.domain.jury_room import RoomState, juror_removed
from polls.errors import (
    Conflict,
    ErrorCode,
    InvitationExpired,
    InvitationInvalid,
    InvitationUsed,
    NotFound,
    ValidationFailed,
)
from polls.store import audit, jury_sessions
from polls.store.juries import get_jury, lottery_of
from polls.store.models import Juror, Jury, JurySession, utcnow
from polls.tokens import JUROR_INVITE, JUROR_ROOM, TokenExpired, TokenInvalid, Tokens

INVITE_PATH = "/juries/{jury_id}/invitation/{token}"
ROOM_PATH = "/juries/{jury_id}/room/{token}"
INVITATION_LIFETIME = timedelta(seconds=JUROR_INVITE.max_age)
# Jury stages in which people may still answer an invitation.
ANSWERING = frozenset({JuryStatus.INVITING, JuryStatus.IN_SESSION})


def juror_snapshot(juror: Juror) -> dict[str, Any]:
    return {
        "id": juror.id,
        "person_id": juror.pool_member.person_id,
        "role": juror.role,
        "position": juror.position,
        "seat": juror.seat,
        "status": juror.status,
        "replaces_id": juror.replaces_id,
        "display_name": juror.display_name,
        "invite_expires_at": juror.invite_expires_at.isoformat() if juror.invite_expires_at else None,
        "link_exported_at": juror.link_exported_at.isoformat() if juror.link_exported_at else None,
    }


async def list_jurors(session: AsyncSession, jury_id: int) -> list[Juror]:
    """The panel by seat, then the reserves in the order they are called."""
    query = select(Juror).where(Juror.jury_id == jury_id).order_by((Juror.role == "reserve"), Juror.position)
    return list((await session.scalars(query)).all())


async def room_juror(session: AsyncSession, jury_id: int, juror_id: int, nonce: str) -> Juror | None:
    """The accepted juror a JUROR_ROOM link's payload names, or None (wrong jury, withdrawn, old link)."""
    juror = await session.get(Juror, juror_id)
    if (
        juror is None
        or juror.jury_id != jury_id
        or juror.status != JurorStatus.ACCEPTED
        or juror.room_nonce is None
        or not secrets.compare_digest(juror.room_nonce, nonce)
    ):
        return None
    return juror


def invitation_link(tokens: Tokens, base_url: str, juror: Juror) -> str:
    assert juror.invite_nonce is not None
    token = tokens.sign(JUROR_INVITE, {"j": juror.id, "n": juror.invite_nonce})
    return base_url + INVITE_PATH.format(jury_id=juror.jury_id, token=token)


def room_link(tokens: Tokens, base_url: str, juror: Juror) -> str:
    assert juror.room_nonce is not None
    token = tokens.sign(JUROR_ROOM, {"j": juror.id, "n": juror.room_nonce})
    return base_url + ROOM_PATH.format(jury_id=juror.jury_id, token=token)


def _invite(juror: Juror, now: datetime) -> None:
    juror.status = JurorStatus.INVITED
    juror.invite_nonce = secrets.token_urlsafe(16)
    juror.invited_at, juror.invite_expires_at = now, now + INVITATION_LIFETIME
    juror.link_exported_at = None


async def open_invitations(session: AsyncSession, actor: Actor, jury_id: int) -> list[Juror]:
    """Invite the drawn panel: each seat's juror gets an invitation for the officer to send."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, {JuryStatus.DRAWN}, "send invitations")
    now = utcnow()
    panel = [j for j in await list_jurors(session, jury.id) if j.role == "panel"]
    for juror in panel:
        _invite(juror, now)
    jury.status = JuryStatus.INVITING
    await _audit(
        session, actor.email, jury, "jury.invitations.open", after={"invited": [j.id for j in panel]}
    )
    return panel


@dataclass(frozen=True)
class InvitationRow:
    person_id: str
    role: str
    seat: int | None
    link: str
    expires_at: datetime


async def export_invitations(
    session: AsyncSession, actor: Actor, jury_id: int, tokens: Tokens, base_url: str, *, only_new: bool
) -> list[InvitationRow]:
    """Invitations not yet answered, for the council's mail-merge (only those not downloaded
    before, with ``only_new``); each is marked as handed over."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, ANSWERING, "download invitations")
    now = utcnow()
    wanted = [
        j
        for j in await list_jurors(session, jury.id)
        if j.status == JurorStatus.INVITED
        and j.invite_nonce is not None
        and not (only_new and j.link_exported_at is not None)
    ]
    rows = []
    for juror in wanted:
        assert juror.invite_expires_at is not None
        rows.append(
            InvitationRow(
                juror.pool_member.person_id,
                juror.role,
                juror.seat,
                invitation_link(tokens, base_url, juror),
                juror.invite_expires_at,
            )
        )
        juror.link_exported_at = now
    await _audit(
        session,
        actor.email,
        jury,
        "jury.invitations.export",
        after={"only_new": only_new, "jurors": [j.id for j in wanted]},
    )
    return rows


async def _audit(session: AsyncSession, actor: str, jury: Jury, action: str, *, after: Any = None) -> None:
    await audit.record(
        session, actor=actor, action=action, target=f"jury:{jury.id}", pilot_id=jury.pilot_id, after=after
    )


# Answering an invitation


def _read_invitation(tokens: Tokens, token: str) -> tuple[int, str]:
    try:
        payload = tokens.read(JUROR_INVITE, token)
    except TokenExpired:
        raise InvitationExpired(
            "This invitation has expired. If you would still like to take part, contact the council."
        ) from None
    except TokenInvalid:
        raise InvitationInvalid(
            "This is not a valid invitation link. Check it was copied in full, or contact the council."
        ) from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("j"), int)
        or not isinstance(payload.get("n"), str)
    ):
        raise InvitationInvalid("This is not a valid invitation link.")
    return payload["j"], payload["n"]


async def find_invitation(
    session: AsyncSession, tokens: Tokens, jury_id: int, token: str, *, lock: bool = False
) -> tuple[Jury, Juror]:
    """The jury and juror an invitation link names, while it can still be answered."""
    juror_id, nonce = _read_invitation(tokens, token)
    juror = await session.get(Juror, juror_id, with_for_update=lock, populate_existing=lock)
    if juror is None or juror.jury_id != jury_id:
        raise InvitationInvalid("This is not a valid invitation link for this jury.")
    # Locking the jury too serialises answers within it, so two people cannot take one name.
    jury = await session.get(Jury, jury_id, with_for_update=lock, populate_existing=lock)
    assert jury is not None
    if juror.status == JurorStatus.EXPIRED:
        raise InvitationExpired(
            "This invitation has expired. If you would still like to take part, contact the council."
        )
    if juror.invite_nonce is None or not secrets.compare_digest(juror.invite_nonce, nonce):
        raise InvitationUsed(
            "This invitation has already been answered, so the link no longer works. "
            "If you accepted, use the jury room link you were given then."
        )
    if juror.status != JurorStatus.INVITED or jury.status not in ANSWERING:
        raise InvitationExpired(
            "This invitation is no longer open. Contact the council if you have questions."
        )
    if juror.invite_expires_at is not None and utcnow() >= juror.invite_expires_at:
        raise InvitationExpired(
            "This invitation has expired. If you would still like to take part, contact the council."
        )
    return jury, juror


async def accept_invitation(
    session: AsyncSession, tokens: Tokens, jury_id: int, token: str, display_name: str
) -> Juror:
    """Accept: the invitation is spent and the juror gets their own room link (``room_link``)."""
    jury, juror = await find_invitation(session, tokens, jury_id, token, lock=True)
    names = await session.scalars(
        select(Juror.display_name).where(Juror.jury_id == jury_id, Juror.status == JurorStatus.ACCEPTED)
    )
    taken = display_name.casefold() in {n.casefold() for n in names if n}
    if taken:
        raise ValidationFailed.one(
            "display_name",
            "Someone on this jury already uses that name; add an initial or choose another",
            code=ErrorCode.DISPLAY_NAME_TAKEN,
        )
    juror.status, juror.display_name = JurorStatus.ACCEPTED, display_name
    juror.invite_nonce, juror.room_nonce, juror.responded_at = None, secrets.token_urlsafe(16), utcnow()
    await _audit(
        session, f"juror:{juror.id}", jury, "juror.accept", after={"juror": juror.id, "seat": juror.seat}
    )
    return juror


async def decline_invitation(session: AsyncSession, tokens: Tokens, jury_id: int, token: str) -> Juror | None:
    """Decline: the invitation is spent and the next suitable reserve is invited (returned, if any)."""
    jury, juror = await find_invitation(session, tokens, jury_id, token, lock=True)
    juror.status, juror.invite_nonce, juror.responded_at = JurorStatus.DECLINED, None, utcnow()
    await _audit(
        session, f"juror:{juror.id}", jury, "juror.decline", after={"juror": juror.id, "seat": juror.seat}
    )
    return await _replace(session, jury, juror, f"juror:{juror.id}")


async def _replace(session: AsyncSession, jury: Jury, leaving: Juror, actor: str) -> Juror | None:
    jurors = await list_jurors(session, jury.id)
    person = {j.id: j.pool_member.person_id for j in jurors}
    panel = [person[j.id] for j in jurors if j.status in SEATED and j.seat is not None and j.id != leaving.id]
    waiting = [j for j in jurors if j.role == "reserve" and j.status == JurorStatus.WAITING]
    choice = choose_replacement(
        lottery_of(jury), [*panel, person[leaving.id]], person[leaving.id], [person[j.id] for j in waiting]
    )
    if choice is None:
        await _audit(session, actor, jury, "juror.replace", after={"seat": leaving.seat, "reserve": None})
        return None
    reserve = next(j for j in waiting if person[j.id] == choice.person)
    _invite(reserve, utcnow())
    reserve.seat, reserve.replaces_id = leaving.seat, leaving.id
    await _audit(
        session,
        actor,
        jury,
        "juror.replace",
        after={
            "seat": leaving.seat,
            "reserve": reserve.id,
            "meets_quotas": choice.meets_quotas,
            "problems": list(choice.problems),
        },
    )
    return reserve


# Officer changes to the panel


async def withdraw_juror(session: AsyncSession, actor: Actor, jury_id: int, juror_id: int) -> Juror | None:
    """An accepted juror who cannot take part after all: their room link stops working and the
    next suitable reserve is invited."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, ANSWERING, "withdraw a juror")
    juror = await session.get(Juror, juror_id, with_for_update=True, populate_existing=True)
    if juror is None or juror.jury_id != jury.id:
        raise NotFound("There is no such juror on this jury", code=ErrorCode.JUROR_NOT_FOUND)
    if juror.status != JurorStatus.ACCEPTED:
        raise Conflict("Only a juror who accepted can be withdrawn", code=ErrorCode.JUROR_NOT_ACCEPTED)
    juror.status, juror.room_nonce = JurorStatus.WITHDRAWN, None
    await _audit(session, actor.email, jury, "juror.withdraw", after={"juror": juror.id, "seat": juror.seat})
    await _leave_open_sessions(session, actor, jury, juror)
    return await _replace(session, jury, juror, actor.email)


async def _leave_open_sessions(session: AsyncSession, actor: Actor, jury: Jury, juror: Juror) -> None:
    """A ``juror_removed`` event in every session of the jury not yet ended, in the withdrawal's
    transaction: rooms drop the juror and close their open sockets (polls.live.jury_rooms)."""
    query = select(JurySession.id).where(JurySession.jury_id == jury.id, JurySession.status != "ended")
    now = utcnow().timestamp()
    for session_id in (await session.scalars(query.order_by(JurySession.id))).all():
        await jury_sessions.append_in(
            session,
            session_id,
            RoomState(),
            lambda current: juror_removed(current, juror.id, now=now),
            audit_actor=actor.email,
        )


async def expire_invitations(session: AsyncSession, actor: Actor, jury_id: int) -> list[Juror]:
    """Close every invitation past its expiry and invite a reserve for each; the reserves invited."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, ANSWERING, "close expired invitations")
    now = utcnow()
    overdue = [
        j
        for j in await list_jurors(session, jury.id)
        if j.status == JurorStatus.INVITED and j.invite_expires_at is not None and j.invite_expires_at <= now
    ]
    invited = []
    for juror in overdue:
        juror.status, juror.invite_nonce = JurorStatus.EXPIRED, None
        await _audit(
            session, actor.email, jury, "juror.expire", after={"juror": juror.id, "seat": juror.seat}
        )
        reserve = await _replace(session, jury, juror, actor.email)
        if reserve is not None:
            invited.append(reserve)
    return invited
