"""Sending through GOV.UK Notify's own client, pointed at a Notify-compatible server the test
starts, and Notify's delivery callbacks updating the outbox."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.app import create_app
from polls.messaging.senders import NotifySender
from polls.messaging.worker import MessageWorker
from polls.settings import Settings
from polls.store import messages as outbox
from polls.store.db import Database, open_engine, sessions_for
from polls.store.models import Message
from tests.notify import API_KEY, FakeNotify
from tests.servers import in_this_process

CALLBACK_TOKEN = "callback-token-0123456789"


@pytest.fixture
async def notify() -> AsyncIterator[tuple[FakeNotify, str]]:
    fake = FakeNotify()
    async with in_this_process(fake.app) as address:
        yield fake, f"http://{address}"


@pytest.fixture
def notify_settings(settings: Settings, notify: tuple[FakeNotify, str]) -> Settings:
    return dataclasses.replace(
        settings,
        messages="notify",
        notify_api_key=API_KEY,
        notify_base_url=notify[1],
        notify_callback_token=CALLBACK_TOKEN,
        notify_templates=(
            ("juror_invite", "tmpl-en"),
            ("juror_invite.cy", "tmpl-cy"),
            ("room_link", "tmpl-r"),
        ),
    )


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[Database]:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    yield sessions_for(engine)
    await engine.dispose()


async def queue(sessions: Database, channel: str, recipient: str, language: str = "en") -> int:
    async with sessions.begin() as session:
        message = await outbox.enqueue(
            session,
            channel=channel,
            recipient=recipient,
            template="juror_invite",
            language=language,
            personalisation={
                "council": "Northshire",
                "jury": "Climate jury",
                "link": "https://x/i",
                "contact": "01",
            },
            purpose="juror_invite",
        )
        return message.id


def worker(sessions: Database, settings: Settings) -> MessageWorker:
    return MessageWorker(sessions, NotifySender(settings), max_attempts=3, interval=0.1)


async def row(db: AsyncSession, message_id: int) -> tuple[str, str | None, str | None]:
    """The message's status, provider id and last error, read afresh."""
    query = select(Message.status, Message.provider_id, Message.last_error).where(Message.id == message_id)
    status, provider_id, error = (await db.execute(query)).one()
    await db.rollback()
    return status, provider_id, error


async def test_email_and_text_go_to_notify_with_the_template_and_personalisation(
    sessions: Database, notify_settings: Settings, notify: tuple[FakeNotify, str], db: AsyncSession
) -> None:
    email = await queue(sessions, "email", "juror@example.org", language="cy")
    sms = await queue(sessions, "sms", "+447700900123")
    await worker(sessions, notify_settings).run_once()
    fake = notify[0]
    by_kind = {s["kind"]: s for s in fake.sent}
    assert by_kind["email"]["body"]["email_address"] == "juror@example.org"
    assert by_kind["email"]["body"]["template_id"] == "tmpl-cy"  # the Welsh template
    assert by_kind["email"]["body"]["personalisation"]["jury"] == "Climate jury"
    assert by_kind["email"]["body"]["reference"] == f"polls-{email}"
    assert by_kind["sms"]["body"]["phone_number"] == "+447700900123"
    assert by_kind["sms"]["body"]["template_id"] == "tmpl-en"
    assert await row(db, email) == ("sent", by_kind["email"]["id"], None)
    assert (await row(db, sms))[0] == "sent"


async def test_a_notify_outage_is_retried_and_a_refusal_is_dead(
    sessions: Database, notify_settings: Settings, notify: tuple[FakeNotify, str], db: AsyncSession
) -> None:
    outage = await queue(sessions, "email", "a@example.org")
    notify[0].failures.append(500)
    await worker(sessions, notify_settings).run_once()
    assert await row(db, outage) == ("failed", None, "Notify answered 500")
    refused = await queue(sessions, "email", "b@example.org")
    notify[0].failures.append(400)
    await worker(sessions, notify_settings).run_once()
    assert (await row(db, refused))[0] == "dead"


async def test_delivery_callbacks_with_the_token_update_the_status(
    sessions: Database,
    notify_settings: Settings,
    notify: tuple[FakeNotify, str],
    redis: Redis,
    db: AsyncSession,
) -> None:
    delivered = await queue(sessions, "email", "a@example.org")
    bounced = await queue(sessions, "sms", "+447700900123")
    await worker(sessions, notify_settings).run_once()
    ids = {s["body"].get("email_address", s["body"].get("phone_number")): s["id"] for s in notify[0].sent}
    app = create_app(notify_settings, run_scheduler=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        forged = await http.post(
            "/api/messages/notify-callback",
            json={"id": ids["a@example.org"], "status": "permanent-failure"},
            headers={"Authorization": "Bearer guessed"},
        )
        assert forged.status_code == 401
        assert forged.json()["code"] == "callback_not_authorised"
        for recipient, status in (("a@example.org", "delivered"), ("+447700900123", "permanent-failure")):
            answer = await http.post(
                "/api/messages/notify-callback",
                json={"id": ids[recipient], "status": status, "reference": "x"},
                headers={"Authorization": f"Bearer {CALLBACK_TOKEN}"},
            )
            assert answer.status_code == 200, answer.text
    assert (await row(db, delivered))[0] == "delivered"
    assert (await row(db, bounced))[:3:2] == ("bounced", "Notify: permanent-failure")
