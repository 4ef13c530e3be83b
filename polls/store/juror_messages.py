"""Messages to jurors: the invitation (by email or text message, to the address the officer
enters), reminders before a session with each juror's room link, and "send me my room link
again". Each is queued in the transaction of what causes it (polls.store.messages)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.contacts import EMAIL, Contact
from polls.domain.juries import JurorStatus
from polls.domain.messages import Purpose
from polls.errors import Conflict, ErrorCode, NotFound
from polls.store import audit, jury_sessions
from polls.store import messages as outbox
from polls.store.juries import get_jury
from polls.store.jurors import ANSWERING, invitation_link, room_link
from polls.store.models import Juror, Jury, Message, Pilot, utcnow
from polls.tokens import Tokens

# Links are stored as paths: the worker completes them with BASE_URL when it sends.
LINK_PATHS = ""


def contact_line(pilot: Pilot) -> str:
    return f"{pilot.contact_email} or {pilot.contact_phone}" if pilot.contact_phone else pilot.contact_email


def _where(juror: Juror) -> Contact | None:
    """Where to write to a juror: their email address if known, else their phone."""
    if juror.email:
        return Contact(EMAIL, juror.email)
    if juror.phone:
        return Contact("sms", juror.phone)
    return None


async def send_invitation(
    session: AsyncSession,
    actor: Actor,
    jury_id: int,
    juror_id: int,
    contact: Contact,
    *,
    tokens: Tokens,
    language: str = "en",
) -> Message:
    """Keep where to write to an invited juror and queue their invitation there."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    juror = await session.get(Juror, juror_id, with_for_update=True, populate_existing=True)
    if juror is None or juror.jury_id != jury.id:
        raise NotFound("There is no such juror on this jury", code=ErrorCode.JUROR_NOT_FOUND)
    if jury.status not in ANSWERING or juror.status != JurorStatus.INVITED or juror.invite_nonce is None:
        raise Conflict("Only an open invitation can be sent", code=ErrorCode.JUROR_NOT_INVITED)
    if contact.channel == EMAIL:
        juror.email = contact.address
    else:
        juror.phone = contact.address
    pilot = await session.get_one(Pilot, jury.pilot_id)
    language = language if language in pilot.languages else "en"  # only a language the pilot offers
    message = await outbox.enqueue(
        session,
        channel=contact.channel,
        recipient=contact.address,
        template="juror_invite",
        language=language,
        personalisation={
            "council": pilot.council,
            "jury": jury.title,
            "link": invitation_link(tokens, LINK_PATHS, juror),
            "contact": contact_line(pilot),
        },
        purpose=Purpose.JUROR_INVITE,
        pilot_id=pilot.id,
        jury_id=jury.id,
        juror_id=juror.id,
    )
    juror.link_exported_at = utcnow()  # handed over, as a downloaded invitation is
    await audit.record(
        session,
        actor=actor.email,
        action="juror.invitation.send",
        target=f"jury:{jury.id}",
        pilot_id=jury.pilot_id,
        after={"juror": juror.id, "by": contact.channel},
    )
    return message


async def _room_link_message(
    session: AsyncSession,
    jury: Jury,
    juror: Juror,
    where: Contact,
    template: str,
    extra: dict[str, str],
    **links: str,
) -> Message:
    pilot = await session.get_one(Pilot, jury.pilot_id)
    return await outbox.enqueue(
        session,
        channel=where.channel,
        recipient=where.address,
        template=template,
        personalisation={"council": pilot.council, "jury": jury.title, **extra, **links},
        purpose=Purpose.SESSION_REMINDER if template == "session_reminder" else Purpose.ROOM_LINK,
        pilot_id=pilot.id,
        jury_id=jury.id,
        juror_id=juror.id,
    )


async def send_reminders(
    session: AsyncSession, actor: Actor, session_id: int, *, tokens: Tokens
) -> tuple[int, int]:
    """Remind every juror we can write to of a session, with their own room link: the jury's id
    and how many were reminded."""
    jury_session = await jury_sessions.get_session(session, session_id)
    jury = await get_jury(session, actor, jury_session.jury_id, Permission.RUN_JURY)
    sent = 0
    for juror in await jury_sessions.accepted_jurors(session, jury.id):
        where = _where(juror)
        if where is None or juror.room_nonce is None:
            continue
        link = room_link(tokens, LINK_PATHS, juror)
        await _room_link_message(
            session, jury, juror, where, "session_reminder", {"session": jury_session.title}, link=link
        )
        sent += 1
    await audit.record(
        session,
        actor=actor.email,
        action="jury_session.reminders",
        target=f"jury_session:{session_id}",
        pilot_id=jury.pilot_id,
        after={"sent": sent},
    )
    return jury.id, sent


async def send_room_link_again(
    session: AsyncSession, jury_id: int, contact: Contact, *, tokens: Tokens
) -> None:
    """Queue the room link of the accepted juror of this jury with this email or phone, if there
    is one; the caller answers the same either way."""
    same = (
        func.lower(Juror.email) == contact.address.lower()
        if contact.channel == EMAIL
        else Juror.phone == contact.address
    )
    query = select(Juror).where(
        Juror.jury_id == jury_id, Juror.status == JurorStatus.ACCEPTED, Juror.room_nonce.is_not(None), same
    )
    juror = (await session.execute(query)).scalars().first()
    if juror is None:
        return
    jury = await session.get_one(Jury, jury_id)
    # Written to the address we hold (the same one, perhaps spelt differently).
    held = juror.email if contact.channel == EMAIL else juror.phone
    where = Contact(contact.channel, held or contact.address)
    link = room_link(tokens, LINK_PATHS, juror)
    await _room_link_message(session, jury, juror, where, "room_link", {}, link=link)


async def send_room_link_on_accept(session: AsyncSession, juror: Juror, *, tokens: Tokens) -> bool:
    """A juror who accepts an invitation we sent them gets their room link there too, in the
    accepting transaction (the page shows it once); False when we have nowhere to write."""
    where = _where(juror)
    if where is None:
        return False
    jury = await session.get_one(Jury, juror.jury_id)
    link = room_link(tokens, LINK_PATHS, juror)
    await _room_link_message(session, jury, juror, where, "room_link", {}, link=link)
    return True


async def send_thanks(session: AsyncSession, jury: Jury) -> int:
    """Thank every juror who sat on the jury and whom we can write to, with the link to its
    published report, in the publishing transaction; each in the language they were last written
    to in. How many were queued."""
    pilot = await session.get_one(Pilot, jury.pilot_id)
    last = (
        select(Message.juror_id, Message.language)
        .where(Message.jury_id == jury.id, Message.juror_id.is_not(None))
        .order_by(Message.id)
    )
    languages = {juror_id: language for juror_id, language in (await session.execute(last)).all()}
    thanked = 0
    for juror in await jury_sessions.accepted_jurors(session, jury.id):
        where = _where(juror)
        if where is None:
            continue
        await outbox.enqueue(
            session,
            channel=where.channel,
            recipient=where.address,
            template="juror_thanks",
            language=languages.get(juror.id, "en"),
            personalisation={
                "council": pilot.council,
                "jury": jury.title,
                "link": f"/juries/{jury.id}/report",
            },
            purpose=Purpose.JUROR_THANKS,
            pilot_id=pilot.id,
            jury_id=jury.id,
            juror_id=juror.id,
            flush=False,
        )
        thanked += 1
    return thanked
