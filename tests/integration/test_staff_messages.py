"""Staff messages: invitations arrive by email, and "forgot my password" sends a single-use link."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.models import Message
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, count, sign_in
from tests.factories import csrf_from, make_pilot
from tests.mail import MailServer
from tests.messaging import send_queued


async def ask_for_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    form = await client.get("/sign-in/forgot")
    return await client.post("/sign-in/forgot", data={"csrf_token": csrf_from(form.text), "email": email})


def link_in(body: str) -> str:
    found = re.search(r"http://\S+/staff/\w+\?token=\S+", body)
    assert found is not None, body
    return found.group(0)


async def test_a_new_staff_member_is_emailed_their_invitation(
    officer: httpx.AsyncClient, settings: Settings, mail_server: MailServer
) -> None:
    pilot = await make_pilot(officer)
    added = await officer.put(
        f"/api/pilots/{pilot['id']}/staff",
        json={"email": "new@council.example", "role": "moderator", "name": "Nia"},
    )
    assert added.status_code == 201, added.text
    assert await send_queued(settings, mail_server) == 1
    [email] = mail_server.to("new@council.example")
    assert email["Subject"] == "You have been invited to run polls for Northshire County Council"
    assert link_in(mail_server.body(email)) == added.json()["invitation_link"]


async def test_a_reset_link_sets_a_new_password_once(
    client: httpx.AsyncClient, admin: int, settings: Settings, mail_server: MailServer
) -> None:
    answer = await ask_for_reset(client, ADMIN_EMAIL.upper())
    assert answer.status_code == 200
    assert "Check your email" in answer.text
    await send_queued(settings, mail_server)
    [email] = mail_server.to(ADMIN_EMAIL)
    link = link_in(mail_server.body(email)).replace("http://127.0.0.1:8000", "")
    form = await client.get(link)
    assert form.status_code == 200
    assert "<title>Choose a new password" in form.text and f'action="{link}"' in form.text
    new = "a brand new password"
    changed = await client.post(
        link, data={"csrf_token": csrf_from(form.text), "password": new, "confirm": new}
    )
    assert changed.status_code == 303
    again = await client.get(link)  # a spent link does not even show the form
    assert again.status_code == 403
    assert "already been used" in again.text
    refused = await client.post("/api/session", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert refused.status_code == 401
    await sign_in(client, ADMIN_EMAIL, new)


async def test_a_forged_or_foreign_reset_link_is_refused(client: httpx.AsyncClient, admin: int) -> None:
    for token in ("pr_forged.token", "si_not-a-reset-link", ""):
        assert (await client.get(f"/staff/reset?token={token}")).status_code == 403


async def test_an_address_that_is_not_an_email_address_is_refused_at_the_field(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    answer = await ask_for_reset(client, "admin at council")
    assert answer.status_code == 422
    assert "Enter an email address like name@example.com" in answer.text
    assert await count(db, Message) == 0


@pytest.mark.parametrize("email", [ADMIN_EMAIL, "nobody@council.example"])
async def test_reset_requests_are_throttled_for_known_and_unknown_addresses_alike(
    client: httpx.AsyncClient, admin: int, db: AsyncSession, email: str
) -> None:
    statuses = [(await ask_for_reset(client, email)).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    recipients = (await db.execute(select(Message.recipient))).scalars().all()
    assert recipients == ([ADMIN_EMAIL] * 5 if email == ADMIN_EMAIL else [])
