"""Senders: one small interface, chosen by the MESSAGES setting (as broadcaster picks its backend
by URL scheme). ``send`` hands one message to the provider and returns the provider's id for it,
or raises SendFailed saying whether trying again could help."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from polls.domain.messages import Channel, render
from polls.messaging.dev_inbox import DevInbox
from polls.settings import Settings
from polls.store.messages import Claimed

SMTP_TIMEOUT = 30
KEEP_OPEN = 20  # idle connections kept to the mail server (as many as a worker sends at once)


class SendFailed(Exception):
    """The provider refused or could not be reached; ``permanent`` when no retry can help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, message: Claimed) -> str | None: ...


def email_of(message: Claimed, mail_from: str) -> EmailMessage:
    rendered = render(message.template, message.language, message.channel, _texts(message))
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.recipient
    email["Subject"] = rendered.subject
    email["Content-Language"] = message.language
    email["Message-ID"] = make_msgid(f"polls-{message.id}")
    email.set_content(rendered.body)
    return email


def _texts(message: Claimed) -> dict[str, str]:
    return {k: str(v) for k, v in message.personalisation.items()}


class SmtpSender:
    """A mail server: ``smtp://user:password@host:port`` (STARTTLS when the server offers it) or
    ``smtps://`` (TLS from the start). Email only: text messages and letters need Notify."""

    def __init__(self, url: str, mail_from: str) -> None:
        parts = urlsplit(url)
        self.hostname = parts.hostname or "localhost"
        self.use_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.mail_from = mail_from
        self._idle: list[aiosmtplib.SMTP] = []  # connections kept open between messages

    async def _connection(self) -> aiosmtplib.SMTP:
        """An idle connection kept from an earlier message, or a new one (logged in)."""
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
        client = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=SMTP_TIMEOUT,
        )
        await client.connect()
        return client

    async def send(self, message: Claimed) -> str | None:
        if message.channel != Channel.EMAIL:
            raise SendFailed(
                f"a mail server cannot send a {message.channel}: use MESSAGES=notify", permanent=True
            )
        email = email_of(message, self.mail_from)
        try:
            client = await self._connection()
            try:
                await client.send_message(email)
            except aiosmtplib.SMTPServerDisconnected:  # an idle connection the server closed
                client = await self._connection()
                await client.send_message(email)
            except BaseException:
                client.close()  # after a refusal, start the next message on a fresh connection
                raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"the mail server refused the address ({_codes(exc)})", permanent=True) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailed(
                f"the mail server answered {exc.code}", permanent=500 <= exc.code < 600
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"cannot reach the mail server: {type(exc).__name__}") from None
        if len(self._idle) < KEEP_OPEN:
            self._idle.append(client)
        else:
            client.close()
        return str(email["Message-ID"])


def _codes(exc: aiosmtplib.SMTPRecipientsRefused) -> str:
    return ", ".join(str(r.code) for r in exc.recipients)


class DevSender:
    """`polls dev`: emails through the embedded SMTP server (a real SMTP exchange), text messages
    and letters straight onto the same /dev/messages page."""

    def __init__(self, inbox: DevInbox, mail_from: str) -> None:
        self.inbox = inbox
        self.smtp = SmtpSender(f"smtp://{inbox.host}:{inbox.port}", mail_from)

    async def send(self, message: Claimed) -> str | None:
        if message.channel == Channel.EMAIL:
            return await self.smtp.send(message)
        rendered = render(message.template, message.language, message.channel, _texts(message))
        to = message.recipient or ", ".join(
            str(message.personalisation[k])
            for k in sorted(message.personalisation)
            if k.startswith("address_")
        )
        self.inbox.add(message.channel, to, rendered.subject, rendered.body)
        return None


class NotifySender:
    """GOV.UK Notify through its Python client (blocking, so run in a thread). Notify holds the
    words (docs/messages.md lists the templates to create); we send the personalisation, and our
    message id as the reference its delivery callbacks carry back."""

    def __init__(self, settings: Settings) -> None:
        self.client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            settings.notify_api_key, base_url=settings.notify_base_url
        )
        self.templates = dict(settings.notify_templates)

    def _template_id(self, message: Claimed) -> str:
        for name in (f"{message.template}.{message.language}", message.template):
            if name in self.templates:
                return self.templates[name]
        raise SendFailed(f"NOTIFY_TEMPLATES has no id for {message.template}", permanent=True)

    async def send(self, message: Claimed) -> str | None:
        template_id = self._template_id(message)
        fields = _texts(message)
        reference = f"polls-{message.id}"
        try:
            if message.channel == Channel.EMAIL:
                answer: Any = await asyncio.to_thread(
                    self.client.send_email_notification, message.recipient, template_id, fields, reference
                )
            elif message.channel == Channel.SMS:
                answer = await asyncio.to_thread(
                    self.client.send_sms_notification, message.recipient, template_id, fields, reference
                )
            else:
                answer = await asyncio.to_thread(
                    self.client.send_letter_notification, template_id, fields, reference
                )
        except APIError as exc:
            status = exc.status_code
            raise SendFailed(f"Notify answered {status}", permanent=status in (400, 403)) from None
        except OSError as exc:
            raise SendFailed(f"cannot reach Notify: {type(exc).__name__}") from None
        return str(answer["id"])


def sender_for(settings: Settings, inbox: DevInbox | None) -> Sender | None:
    """The sender MESSAGES names; None when it names none (messages then wait in the outbox)."""
    if settings.messages == "dev" and inbox is not None:
        return DevSender(inbox, settings.mail_from)
    if settings.messages == "notify":
        return NotifySender(settings)
    if settings.messages.startswith(("smtp://", "smtps://")):
        return SmtpSender(settings.messages, settings.mail_from)
    return None
