"""`polls bench messages`: the results-published messages to N residents (50,000 by default)
through the SMTP path: a poll is published with N subscriptions waiting, two workers (two
instances, each with its own engine) turn them into messages and send them to a real SMTP server
(aiosmtpd) on loopback. Reports how long queueing and sending took and whether any resident got
the message twice. The figure does not yet include votes answered meanwhile (see docs/messages.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from polls.messaging.dev_inbox import _free_port
from polls.messaging.senders import SmtpSender
from polls.messaging.worker import MessageWorker
from polls.store import subscriptions
from polls.store.db import Database, open_engine, sessions_for
from polls.store.migrate import upgrade
from polls.store.models import Pilot, Poll, ResultSubscription

TARGET_SECONDS = 300.0


class _Counting:
    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.update(envelope.rcpt_tos)
        return "250 OK"


async def _published_poll_with(db: Database, subscribers: int) -> None:
    async with db.begin() as session:
        pilot = Pilot(
            name="Bench", region="Bench", council="Bench Borough Council", languages=["en"],
            starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31), contact_email="bench@example.org",
        )  # fmt: skip
        session.add(pilot)
        await session.flush()
        poll = Poll(pilot_id=pilot.id, title="Bench poll", status="published",
                    results_visibility="after_close", assurance="card")  # fmt: skip
        session.add(poll)
        await session.flush()
        session.add_all(
            ResultSubscription(
                id=subscriptions.new_id(),
                poll_id=poll.id,
                channel="email",
                recipient=f"resident{i}@example.org",
                language="en",
            )
            for i in range(subscribers)
        )


async def _run(workdir: Path, subscribers: int) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    engines = [open_engine(url) for _ in range(2)]
    handler = _Counting()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command otherwise
    port = _free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        dbs = [sessions_for(e) for e in engines]
        await _published_poll_with(dbs[0], subscribers)
        started = time.perf_counter()
        queued = 0
        while True:
            async with dbs[0].begin() as session:
                n = await subscriptions.tell_published(session)
            queued += n
            if n == 0:
                break
        queueing = time.perf_counter() - started
        sender = SmtpSender(f"smtp://127.0.0.1:{port}", "polls@bench.example")
        workers = [
            MessageWorker(db, sender, max_attempts=6, interval=0.5, base_url="http://bench") for db in dbs
        ]
        started = time.perf_counter()
        while sum(handler.received.values()) < queued:
            claimed = await asyncio.gather(*(w.run_once() for w in workers))
            if not any(claimed):
                await asyncio.sleep(0.1)
        sending = time.perf_counter() - started
    finally:
        server.stop()
        for engine in engines:
            await engine.dispose()
    twice = sum(1 for n in handler.received.values() if n > 1)
    total = queueing + sending
    return {
        "bench": "messages",
        "subscribers": subscribers,
        "queued": queued,
        "received": sum(handler.received.values()),
        "sent_twice": twice,
        "seconds_queueing": round(queueing, 2),
        "seconds_sending": round(sending, 2),
        "messages_per_second": round(queued / sending, 1) if sending else None,
        "target_seconds": TARGET_SECONDS * subscribers / 50_000,
        "ok": twice == 0 and queued == subscribers and total <= TARGET_SECONDS * subscribers / 50_000,
    }


def run(subscribers: int = 50_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="polls-bench-messages-") as workdir:
        return asyncio.run(_run(Path(workdir), subscribers))


def report(figures: dict[str, Any]) -> str:
    return (
        f"{figures['subscribers']} results messages over SMTP: queued in {figures['seconds_queueing']} s, "
        f"sent in {figures['seconds_sending']} s ({figures['messages_per_second']}/s), "
        f"{figures['sent_twice']} sent twice\n" + json.dumps(figures)
    )
