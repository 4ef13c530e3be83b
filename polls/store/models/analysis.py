"""The tables of the analysis of what residents wrote: the pilot's themes, each analyst's tags on
a poll's responses (by the response's number, never a ballot), quotes chosen for the report, and
suggested themes waiting for an officer; and the final report's summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polls.store.models.core import Base, utcnow


class Theme(Base):
    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("pilot_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResponseTag(Base):
    """One analyst's tag: response ``number`` of the poll's reviewed comments raises a theme."""

    __tablename__ = "response_tags"
    __table_args__ = (UniqueConstraint("poll_id", "number", "theme_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuotedResponse(Base):
    """A response chosen to quote in the final report."""

    __tablename__ = "quoted_responses"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    marked_by: Mapped[str] = mapped_column(String(254))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThemeSuggestion(Base):
    """A group of similar responses found by polls.domain.theme_suggestions, pending until an
    officer accepts it (a theme and tags), renames it or rejects it."""

    __tablename__ = "theme_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    key_phrases: Mapped[list[Any]]
    numbers: Mapped[list[Any]]  # the responses in the group, strongest first
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|accepted|rejected
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollReport(Base):
    """The final report's summary, written by officers while the results are in review."""

    __tablename__ = "poll_reports"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
