"""Messages to jurors: the invitation by email or text message, "send me my room link again",
session reminders with each juror's room link, and the officer's view of their delivery."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.models import Message
from tests.conftest import count
from tests.factories import csrf_from
from tests.integration.test_jury_selection_invitations import answer, inviting_jury, juror_of, path
from tests.mail import MailServer
from tests.messaging import send_queued


@pytest.fixture
async def person(officer: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A juror on their own phone: no staff session."""
    async with httpx.AsyncClient(transport=officer._transport, base_url="http://testserver") as http:
        yield http


def link_in(body: str, kind: str) -> str:
    found = re.search(rf"http://\S+/{kind}/\S+", body)
    assert found is not None, body
    return found.group(0)


async def send_invitation(
    officer: httpx.AsyncClient, jury_id: int, juror_id: int, contact: str
) -> httpx.Response:
    return await officer.post(
        f"/council/juries/{jury_id}/jurors/{juror_id}/send", data={f"contact-{juror_id}": contact}
    )


async def ask_for_room_link(http: httpx.AsyncClient, jury_id: int, contact: str) -> httpx.Response:
    form = await http.get(f"/juries/{jury_id}/room-link")
    assert form.status_code == 200
    return await http.post(
        f"/juries/{jury_id}/room-link", data={"csrf_token": csrf_from(form.text), "contact": contact}
    )


async def test_an_emailed_invitation_is_accepted_and_the_room_link_can_be_asked_for_again(
    officer: httpx.AsyncClient,
    person: httpx.AsyncClient,
    settings: Settings,
    mail_server: MailServer,
    db: AsyncSession,
) -> None:
    jury, sent = await inviting_jury(officer)
    juror = await juror_of(db, sent[0]["id"])
    queued = await send_invitation(officer, jury["id"], juror.id, "Sam.Juror@Example.org")
    assert queued.status_code == 303
    await send_queued(settings, mail_server)
    [invitation] = mail_server.to("Sam.Juror@example.org")
    assert "citizens' jury" in invitation["Subject"]
    assert "democracy@northshire.example" in mail_server.body(invitation)  # the council's contact
    link = link_in(mail_server.body(invitation), "invitation")
    assert (await answer(person, link, choice="accept", display_name="Sam")).status_code in (200, 303)

    known = await ask_for_room_link(person, jury["id"], "sam.juror@example.org")
    unknown = await ask_for_room_link(person, jury["id"], "someone.else@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("sam.juror@example.org", "X") == unknown.text.replace(
        "someone.else@example.org", "X"
    )
    await send_queued(settings, mail_server)
    [_, on_accepting, again] = mail_server.to("Sam.Juror@example.org")
    assert on_accepting["Subject"] == again["Subject"] == "Your link to the jury room"
    room = link_in(mail_server.body(again), "room")
    assert (await person.get(path(room))).status_code == 200
    assert mail_server.to("someone.else@example.org") == []


async def test_a_phone_number_gets_a_text_message_and_a_wrong_one_is_refused_at_the_field(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury, sent = await inviting_jury(officer)
    juror = await juror_of(db, sent[1]["id"])
    refused = await send_invitation(officer, jury["id"], juror.id, "0123")
    assert refused.status_code == 422
    assert "Enter a phone number like 07700 900123" in refused.text
    assert await count(db, Message) == 0
    assert (await send_invitation(officer, jury["id"], juror.id, "07911 123456")).status_code == 303
    row = (await db.execute(select(Message.channel, Message.recipient, Message.template))).one()
    assert tuple(row) == ("sms", "+447911123456", "juror_invite")


async def test_reminders_carry_each_jurors_room_link_and_officers_see_delivery_and_retry(
    officer: httpx.AsyncClient,
    person: httpx.AsyncClient,
    settings: Settings,
    mail_server: MailServer,
    db: AsyncSession,
) -> None:
    jury, sent = await inviting_jury(officer)
    juror = await juror_of(db, sent[0]["id"])
    await send_invitation(officer, jury["id"], juror.id, "sam@example.org")
    await send_queued(settings, mail_server)
    await answer(person, link_in(mail_server.body(mail_server.to("sam@example.org")[0]), "invitation"),
                 choice="accept", display_name="Sam")  # fmt: skip
    created = await officer.post(f"/council/juries/{jury['id']}/sessions", data={"title": "Day 1: evidence"})
    assert created.status_code == 303
    session_id = int(created.headers["location"].rsplit("/", 1)[1])
    reminded = await officer.post(f"/council/jury-sessions/{session_id}/reminders")
    assert reminded.status_code == 303 and reminded.headers["location"].endswith("reminded=1")
    mail_server.refusals.append("550 5.1.1 mailbox gone")  # the room link sent on accepting
    await send_queued(settings, mail_server)
    page = await officer.get(f"/council/juries/{jury['id']}")
    assert "session reminder" in page.text and "dead" in page.text
    dead = (await db.execute(select(Message.id).where(Message.status == "dead"))).scalar_one()
    await db.rollback()
    retried = await officer.post(
        f"/council/messages/{dead}/retry", data={"back": f"/council/juries/{jury['id']}"}
    )
    assert retried.status_code == 303
    await send_queued(settings, mail_server)
    [reminder] = [m for m in mail_server.to("sam@example.org") if m["Subject"] == "Reminder: Day 1: evidence"]
    assert (await person.get(path(link_in(mail_server.body(reminder), "room")))).status_code == 200


async def test_asking_for_a_room_link_too_often_is_refused_with_when_to_try_again(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, settings: Settings, db: AsyncSession
) -> None:
    jury, _ = await inviting_jury(officer)
    limit = settings.signin_attempts  # per address asked about and per client address
    answers = [await ask_for_room_link(person, jury["id"], "nobody@example.org") for _ in range(limit)]
    assert [a.status_code for a in answers] == [200] * limit
    refused = await ask_for_room_link(person, jury["id"], "nobody@example.org")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many requests" in refused.text
    assert await count(db, Message) == 0  # the address belongs to no juror
