"""The adversary who holds a one-time sign-in link (read over a shoulder, from a mail scanner's log,
a forwarded email) and tries to use it as well as its owner, at the same instant. Without the
account's row locked while the link is spent, on PostgreSQL two uses at once both saw the unused
fingerprint and both signed in."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.models import SignIn
from tests.conftest import ADMIN_EMAIL, count
from tests.factories import csrf_from
from tests.integration.test_sign_in_links import ask_for_link, link_in
from tests.mail import MailServer
from tests.messaging import send_queued


async def test_a_link_used_twice_at_once_signs_in_only_once(
    client: httpx.AsyncClient, admin: int, settings: Settings, mail_server: MailServer, db: AsyncSession
) -> None:
    await ask_for_link(client, ADMIN_EMAIL)
    await send_queued(settings, mail_server)
    [email] = mail_server.to(ADMIN_EMAIL)
    link = link_in(mail_server.body(email))
    browsers = [
        httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url)) for _ in range(4)
    ]
    pages = [await b.get(link) for b in browsers]
    answers = await asyncio.gather(
        *(b.post(link, data={"csrf_token": csrf_from(p.text)}) for b, p in zip(browsers, pages, strict=True))
    )
    for b in browsers:
        await b.aclose()
    assert sorted(a.status_code for a in answers) == [303, 403, 403, 403]
    assert await count(db, SignIn) == 1
