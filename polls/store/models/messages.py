"""The outbox (every message the service sends, as a row written with what caused it) and the
residents who asked to hear when a poll's results are published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from polls.store.models.core import Base, utcnow


class Message(Base):
    """One email, text message or letter, from queued to delivered (or dead).

    Workers in every instance claim due rows (polls.store.messages.claim_due); ``claimed_until``
    is the claim's lease, so a row whose instance died while sending is claimed again later.
    The purpose and the pilot, jury, juror and poll ids are for officers' views only.
    """

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | sms | letter
    recipient: Mapped[str] = mapped_column(String(254))  # email, E.164 phone, or "" for a letter
    template: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10), default="en")
    personalisation: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(80), index=True)
    last_error: Mapped[str | None] = mapped_column(String(300))  # never the message's content
    purpose: Mapped[str] = mapped_column(String(30))
    pilot_id: Mapped[int | None] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    jury_id: Mapped[int | None] = mapped_column(ForeignKey("juries.id", ondelete="CASCADE"), index=True)
    juror_id: Mapped[int | None] = mapped_column(ForeignKey("jurors.id", ondelete="SET NULL"))
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResultSubscription(Base):
    """A resident's "tell me when the results are published": the poll and where to write, and
    nothing else (no tracker, no code, no time, a random id), written in its own transaction
    after the vote's, and deleted once the results message is queued."""

    __tablename__ = "result_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random; unsubscribe links name it
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | sms
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(10), default="en")
