"""The outbox worker each instance runs: claim due messages, send them, record what happened.

Claims are exclusive across instances (polls.store.messages.claim_due), so a message is sent
once however many instances race; a failed send is tried again after a growing wait, and after
``max_attempts`` the message is dead (officers see it and may send it again).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

from polls.messaging.senders import Sender, SendFailed
from polls.store import messages as outbox
from polls.store.db import Database

log = logging.getLogger("polls.messages")

BATCH = 100  # messages claimed at a time ...
CONCURRENCY = 20  # ... and sent at once


class MessageWorker:
    def __init__(
        self, db: Database, sender: Sender, *, max_attempts: int, interval: float, base_url: str = ""
    ) -> None:
        self.db = db
        self.base_url = base_url
        self.sender = sender
        self.max_attempts = max_attempts
        self.interval = interval
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(CONCURRENCY)

    def wake(self) -> None:
        """Look at the outbox now (a message was just queued) instead of at the next interval."""
        self._wake.set()

    async def run_once(self) -> int:
        """One pass: claim what is due and send it; returns how many messages were claimed."""
        claimed = await outbox.claim_due(self.db, BATCH)
        outcomes = await asyncio.gather(*(self._send(message) for message in claimed))
        await outbox.record_outcomes(self.db, outcomes, self.max_attempts)
        return len(claimed)

    async def _send(self, message: outbox.Claimed) -> outbox.Outcome:
        async with self._slots:
            try:
                provider_id = await self.sender.send(self._with_links(message))
            except SendFailed as exc:
                log.warning("message %s attempt %s failed: %s", message.id, message.attempts, exc.reason)
                return outbox.Outcome(message, error=exc.reason, permanent=exc.permanent)
            except Exception as exc:  # a sender's bug must not kill the worker, nor lose the message
                log.exception("message %s: the sender failed", message.id)
                return outbox.Outcome(message, error=type(exc).__name__)
            return outbox.Outcome(message, provider_id=provider_id)

    def _with_links(self, message: outbox.Claimed) -> outbox.Claimed:
        """Links into the service are stored as paths (the store does not know the address it is
        served at) and completed here."""
        fields = {
            k: self.base_url + v if isinstance(v, str) and v.startswith("/") else v
            for k, v in message.personalisation.items()
        }
        return dataclasses.replace(message, personalisation=fields)

    async def run_forever(self) -> None:
        while True:
            try:
                busy = await self.run_once() == BATCH
            except Exception:  # keep the loop alive through a database blip; log it
                log.exception("outbox pass failed")
                busy = False
            if not busy:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
