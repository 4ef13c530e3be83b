"""A one-time sign-in link for a locked-out officer: it arrives by email, signs in once within 15
minutes, and asking for one says nothing about whether an account exists."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.models import AuditEntry, Message
from polls.tokens import SIGN_IN_LINK, Tokens
from tests.conftest import ADMIN_EMAIL, count
from tests.factories import SECRET, csrf_from
from tests.mail import MailServer
from tests.messaging import send_queued


async def ask_for_link(client: httpx.AsyncClient, email: str) -> httpx.Response:
    form = await client.get("/sign-in/email-link")
    return await client.post("/sign-in/email-link", data={"csrf_token": csrf_from(form.text), "email": email})


def link_in(body: str) -> str:
    found = re.search(r"http://\S+(/sign-in/link\?token=\S+)", body)
    assert found is not None, body
    return found.group(1)


async def use(client: httpx.AsyncClient, link: str) -> httpx.Response:
    page = await client.get(link)
    if page.status_code != 200:
        return page
    return await client.post(link, data={"csrf_token": csrf_from(page.text)})


async def test_the_sign_in_page_offers_the_link(client: httpx.AsyncClient) -> None:
    assert 'href="/sign-in/email-link"' in (await client.get("/sign-in")).text


async def test_an_emailed_link_signs_the_officer_in_once(
    client: httpx.AsyncClient, admin: int, settings: Settings, mail_server: MailServer, db: AsyncSession
) -> None:
    answer = await ask_for_link(client, ADMIN_EMAIL.upper())
    assert answer.status_code == 200
    assert "Check your email" in answer.text
    assert await send_queued(settings, mail_server) == 1
    [email] = mail_server.to(ADMIN_EMAIL)
    assert email["Subject"] == "Your sign-in link"
    link = link_in(mail_server.body(email))
    shown = await client.get(link)  # opening it (as a mail scanner would) does not spend it
    assert shown.status_code == 200
    signed_in = await use(client, link)
    assert signed_in.status_code == 303
    assert (await client.get("/api/session")).json()["staff"]["email"] == ADMIN_EMAIL
    entries = (await db.execute(select(AuditEntry.action))).scalars().all()
    assert "staff.sign_in_by_link" in entries
    stranger = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with stranger:
        again = await use(stranger, link)
    assert again.status_code == 403
    assert "already been used" in again.text


async def test_two_links_asked_for_at_once_spend_each_other(
    client: httpx.AsyncClient, admin: int, settings: Settings, mail_server: MailServer
) -> None:
    for _ in range(2):
        await ask_for_link(client, ADMIN_EMAIL)
    await send_queued(settings, mail_server)
    first, second = (link_in(mail_server.body(e)) for e in mail_server.to(ADMIN_EMAIL))
    assert (await use(client, first)).status_code == 303
    assert (await use(client, second)).status_code == 403


async def test_a_forged_expired_or_foreign_link_is_refused(client: httpx.AsyncClient, admin: int) -> None:
    stale = Tokens((SECRET,)).sign(SIGN_IN_LINK, {"s": admin, "f": "0" * 16})
    for token in ("sl_forged.token", "pr_not-a-sign-in-link", "", stale):
        answer = await use(client, f"/sign-in/link?token={token}")
        assert answer.status_code == 403, token
    assert (await client.get("/api/session")).json()["staff"] is None


async def test_an_address_that_is_not_an_email_address_is_refused_at_the_field(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    answer = await ask_for_link(client, "admin at council")
    assert answer.status_code == 422
    assert "Enter an email address like name@example.com" in answer.text
    assert await count(db, Message) == 0


@pytest.mark.parametrize("email", [ADMIN_EMAIL, "nobody@council.example"])
async def test_link_requests_are_throttled_and_answered_alike_for_known_and_unknown_addresses(
    client: httpx.AsyncClient, admin: int, db: AsyncSession, email: str
) -> None:
    answers = [await ask_for_link(client, email) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert len({a.text.replace(email, "") for a in answers[:5]}) == 1
    recipients = (await db.execute(select(Message.recipient))).scalars().all()
    assert recipients == ([ADMIN_EMAIL] * 5 if email == ADMIN_EMAIL else [])
