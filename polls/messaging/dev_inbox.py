"""The embedded SMTP server of `polls dev` (aiosmtpd, a real one on loopback) and the inbox that
/dev/messages shows: the emails it received, and the text messages and letters the dev sender
rendered beside them. Kept in memory: it lasts as long as the app."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from polls.store.models import utcnow

KEEP = 500  # the newest messages shown; older ones are dropped


@dataclass(frozen=True)
class DevMessage:
    channel: str  # email | sms | letter
    to: str
    subject: str
    body: str
    at: datetime = field(default_factory=utcnow)


class _Handler:
    def __init__(self, inbox: DevInbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        self.inbox.add("email", ", ".join(envelope.rcpt_tos), str(parsed["Subject"] or "").strip(), body)
        return "250 Message accepted for delivery"


class DevInbox:
    """``await inbox.start()`` runs the SMTP server on 127.0.0.1 (a free port, or ``port``)."""

    def __init__(self, port: int = 0) -> None:
        self.host = "127.0.0.1"
        self.port = port or _free_port()
        self._messages: deque[DevMessage] = deque(maxlen=KEEP)
        self._lock = threading.Lock()  # the server runs its own loop in its own thread
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)

    async def start(self) -> None:
        # aiosmtpd logs each SMTP command at DEBUG, recipients' addresses included: not in ours.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self._controller.stop)

    def add(self, channel: str, to: str, subject: str, body: str) -> None:
        with self._lock:
            self._messages.append(DevMessage(channel, to, subject, body))

    def messages(self) -> list[DevMessage]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._messages))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
