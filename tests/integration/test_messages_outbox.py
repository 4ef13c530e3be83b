"""The outbox: messages written with what caused them are sent once by whichever instance claims
them, tried again after a failure, given up after N attempts, and not lost when an instance stops."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from polls.app import create_app
from polls.messaging.senders import SmtpSender
from polls.messaging.worker import MessageWorker
from polls.settings import Settings
from polls.store import messages as outbox
from polls.store.db import Database, open_engine, sessions_for
from polls.store.models import Message, utcnow
from tests.mail import MailServer


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[Database]:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    yield sessions_for(engine)
    await engine.dispose()


async def queue_invitations(sessions: Database, n: int) -> list[int]:
    ids = []
    async with sessions.begin() as session:
        for i in range(n):
            message = await outbox.enqueue(
                session,
                channel="email",
                recipient=f"person{i}@example.org",
                template="staff_invite",
                personalisation={"council": "Northshire", "name": f"Person {i}", "link": f"https://x/{i}"},
                purpose="staff_invite",
            )
            ids.append(message.id)
    return ids


def worker(sessions: Database, server: MailServer, attempts: int = 6) -> MessageWorker:
    return MessageWorker(
        sessions, SmtpSender(server.url, "polls@council.example"), max_attempts=attempts, interval=0.1
    )


async def statuses(db: AsyncSession) -> list[tuple[str, int]]:
    rows = (await db.execute(select(Message.status, Message.attempts).order_by(Message.id))).all()
    await db.rollback()
    return [(s, a) for s, a in rows]


async def make_due(sessions: Database) -> None:
    """As if the retry's wait had passed."""
    async with sessions.begin() as session:
        await session.execute(update(Message).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


async def test_a_queued_email_is_sent_with_its_words(
    sessions: Database, mail_server: MailServer, db: AsyncSession
) -> None:
    await queue_invitations(sessions, 1)
    assert await worker(sessions, mail_server).run_once() == 1
    [email] = mail_server.to("person0@example.org")
    assert email["Subject"] == "You have been invited to run polls for Northshire"
    assert "Hello Person 0," in mail_server.body(email)
    assert "https://x/0" in mail_server.body(email)
    assert await statuses(db) == [("sent", 1)]


async def test_two_workers_racing_send_each_message_once(
    sessions: Database, settings: Settings, mail_server: MailServer, db: AsyncSession
) -> None:
    await queue_invitations(sessions, 40)
    engines = [open_engine(settings.database_url, ballot_key=settings.ballot_key) for _ in range(2)]
    try:
        workers = [worker(sessions_for(e), mail_server) for e in engines]
        for _ in range(3):
            await asyncio.gather(*(w.run_once() for w in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    sent_to = sorted(str(m["To"]) for m in mail_server.received)
    assert sent_to == sorted(f"person{i}@example.org" for i in range(40))
    assert await statuses(db) == [("sent", 1)] * 40


async def test_a_refused_delivery_is_tried_again_later(
    sessions: Database, mail_server: MailServer, db: AsyncSession
) -> None:
    await queue_invitations(sessions, 1)
    mail_server.refusals.append("451 4.3.0 try again later")
    sending = worker(sessions, mail_server)
    await sending.run_once()
    assert await statuses(db) == [("failed", 1)]
    assert await sending.run_once() == 0  # not before its wait is over
    await make_due(sessions)
    await sending.run_once()
    assert await statuses(db) == [("sent", 2)]
    assert len(mail_server.to("person0@example.org")) == 1


async def test_a_message_is_dead_after_n_attempts(
    sessions: Database, mail_server: MailServer, db: AsyncSession
) -> None:
    await queue_invitations(sessions, 1)
    mail_server.always_refuse = "421 4.7.0 closing"
    sending = worker(sessions, mail_server, attempts=3)
    for _ in range(5):
        await sending.run_once()
        await make_due(sessions)
    assert await statuses(db) == [("dead", 3)]
    error = (await db.execute(select(Message.last_error))).scalar_one()
    assert error == "the mail server answered 421"


async def test_an_address_the_server_refuses_for_good_is_dead_at_once(
    sessions: Database, mail_server: MailServer, db: AsyncSession
) -> None:
    await queue_invitations(sessions, 1)
    mail_server.refusals.append("550 5.1.1 no such mailbox")
    await worker(sessions, mail_server).run_once()
    assert await statuses(db) == [("dead", 1)]


async def test_a_message_claimed_by_an_instance_that_died_is_sent_by_another(
    sessions: Database, mail_server: MailServer, db: AsyncSession
) -> None:
    await queue_invitations(sessions, 1)
    [claimed] = await outbox.claim_due(sessions)  # then the instance is killed before sending
    assert await outbox.claim_due(sessions) == []  # its claim holds while the lease runs
    assert await outbox.claim_due(sessions, now=utcnow() + outbox.LEASE + timedelta(seconds=1)) != []
    assert claimed.attempts == 1


async def test_a_queued_message_survives_a_restart_and_is_sent_by_the_app(
    settings: Settings, redis: Redis, sessions: Database, mail_server: MailServer, db: AsyncSession
) -> None:
    await queue_invitations(sessions, 1)  # queued while no app runs (or before one stopped)
    settings = dataclasses.replace(settings, messages=mail_server.url, messages_interval=0.1)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        for _ in range(100):
            if mail_server.received:
                break
            await asyncio.sleep(0.05)
        for _ in range(100):
            if await statuses(db) == [("sent", 1)]:
                break
            await asyncio.sleep(0.05)
    assert len(mail_server.to("person0@example.org")) == 1
    assert await statuses(db) == [("sent", 1)]
