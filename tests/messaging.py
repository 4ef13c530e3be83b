"""Sending what the app queued, in the tests: a worker on its own engine, through a real SMTP server."""

from __future__ import annotations

from polls.messaging.senders import SmtpSender
from polls.messaging.worker import MessageWorker
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from tests.mail import MailServer


async def send_queued(settings: Settings, mail_server: MailServer) -> int:
    """Send every message that is due now; returns how many were claimed."""
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        sender = SmtpSender(mail_server.url, "polls@council.example")
        worker = MessageWorker(
            sessions_for(engine), sender, max_attempts=3, interval=0.1, base_url=settings.base_url
        )
        return await worker.run_once()
    finally:
        await engine.dispose()
