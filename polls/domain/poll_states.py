"""The names of a poll's states: its lifecycle status, when its results show, and how voters prove
they may vote."""

from __future__ import annotations

from enum import StrEnum


class PollStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    UNDER_REVIEW = "under_review"
    PUBLISHED = "published"


class ResultsVisibility(StrEnum):
    LIVE = "live"  # residents see results while voting is open
    AFTER_CLOSE = "after_close"
    AFTER_REVIEW = "after_review"  # only once an officer publishes them


class Assurance(StrEnum):
    POLL_CARD = "poll_card"  # codes posted to residents on poll cards
    EVENT = "event"  # single-use codes handed out at community events
    OPEN = "open"  # no codes: one per browser, labelled as such on results
