"""Polls: what an officer drafts, and the lifecycle a poll moves through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field, field_validator, model_validator

# The states are named in a module of their own, light enough for the SQLite writer process.
from polls.domain.poll_states import Assurance as Assurance
from polls.domain.poll_states import PollStatus as PollStatus
from polls.domain.poll_states import ResultsVisibility as ResultsVisibility
from polls.domain.published_ballots import BallotFileLayout
from polls.domain.questions import QuestionSpec
from polls.domain.secrecy import DEFAULT_SECRECY_K, MAX_SECRECY_K, MIN_SECRECY_K
from polls.domain.validation import StrictSpec
from polls.errors import ErrorCode, TransitionNotAllowed
from polls.i18n import N_

STATUS_LABELS = {
    PollStatus.DRAFT: N_("Draft"),
    PollStatus.SCHEDULED: N_("Scheduled"),
    PollStatus.OPEN: N_("Open"),
    PollStatus.CLOSED: N_("Closed"),
    PollStatus.UNDER_REVIEW: N_("Under review"),
    PollStatus.PUBLISHED: N_("Results published"),
}


VISIBILITY_LABELS = {
    ResultsVisibility.LIVE: N_("Live, while the poll is open"),
    ResultsVisibility.AFTER_CLOSE: N_("As soon as the poll closes"),
    ResultsVisibility.AFTER_REVIEW: N_("After officers review and publish them"),
}
ASSURANCE_LABELS = {
    Assurance.POLL_CARD: N_("Poll card codes"),
    Assurance.EVENT: N_("Event codes"),
    Assurance.OPEN: N_("Open (one per browser, not verified)"),
}


class PollSpec(StrictSpec):
    """The poll-level fields an officer sets while drafting."""

    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=5000)
    area_ids: list[int] = []  # eligible areas; empty means the whole pilot
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    results_visibility: ResultsVisibility = ResultsVisibility.AFTER_CLOSE
    assurance: Assurance = Assurance.POLL_CARD
    # Whole ballots in the published file let a coercer ask for a pattern across questions
    ballot_file_layout: BallotFileLayout = BallotFileLayout.PER_QUESTION
    # Live results move in steps of at least this many ballots (polls.domain.secrecy).
    secrecy_k: int = DEFAULT_SECRECY_K

    field_codes: ClassVar[dict[str, ErrorCode]] = {"secrecy_k": ErrorCode.SECRECY_K_INVALID}

    @field_validator("secrecy_k", mode="before")
    @classmethod
    def _whole_number_of_ballots(cls, value: object) -> int:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Enter a whole number of votes, at least {MIN_SECRECY_K}")
        if not MIN_SECRECY_K <= value <= MAX_SECRECY_K:
            raise ValueError(f"Enter a whole number of votes from {MIN_SECRECY_K} to {MAX_SECRECY_K}")
        return value

    @model_validator(mode="after")
    def _times_in_order(self) -> PollSpec:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("The closing time must be after the opening time")
        return self


class NewPollSpec(PollSpec):
    questions: list[QuestionSpec] = Field(default=[], max_length=100)


class Action(StrEnum):
    SCHEDULE = "schedule"
    UNSCHEDULE = "unschedule"
    OPEN = "open"
    CLOSE = "close"
    REVIEW = "review"
    PUBLISH = "publish"


ACTION_LABELS = {
    Action.SCHEDULE: N_("Schedule"),
    Action.UNSCHEDULE: N_("Back to draft"),
    Action.OPEN: N_("Open now"),
    Action.CLOSE: N_("Close now"),
    Action.REVIEW: N_("Start review"),
    Action.PUBLISH: N_("Publish results"),
}

_MOVES: dict[Action, tuple[frozenset[PollStatus], PollStatus]] = {
    Action.SCHEDULE: (frozenset({PollStatus.DRAFT}), PollStatus.SCHEDULED),
    Action.UNSCHEDULE: (frozenset({PollStatus.SCHEDULED}), PollStatus.DRAFT),
    Action.OPEN: (frozenset({PollStatus.DRAFT, PollStatus.SCHEDULED}), PollStatus.OPEN),
    Action.CLOSE: (frozenset({PollStatus.OPEN}), PollStatus.CLOSED),
    Action.REVIEW: (frozenset({PollStatus.CLOSED}), PollStatus.UNDER_REVIEW),
    Action.PUBLISH: (frozenset({PollStatus.UNDER_REVIEW}), PollStatus.PUBLISHED),
}


_DONE = {
    Action.SCHEDULE: "scheduled",
    Action.UNSCHEDULE: "moved back to draft",
    Action.OPEN: "opened",
    Action.CLOSE: "closed",
    Action.REVIEW: "reviewed",
    Action.PUBLISH: "published",
}


def _a_poll(status: PollStatus) -> str:
    """ "A draft poll", "An open poll", "A poll under review": for plain-language refusals."""
    if status is PollStatus.UNDER_REVIEW:
        return "A poll under review"
    adjective = status.value
    return f"{'An' if adjective[0] in 'aeiou' else 'A'} {adjective} poll"


@dataclass(frozen=True)
class PollFacts:
    """What the lifecycle needs to know about a poll to decide a move."""

    status: PollStatus
    question_count: int
    opens_at: datetime | None
    closes_at: datetime | None


def allowed_actions(facts: PollFacts) -> list[Action]:
    return [a for a, (sources, _) in _MOVES.items() if facts.status in sources]


def next_status(facts: PollFacts, action: Action, now: datetime) -> PollStatus:
    """The status after ``action``, or TransitionNotAllowed saying why not."""
    sources, target = _MOVES[action]
    if facts.status not in sources:
        raise TransitionNotAllowed(
            f"{_a_poll(facts.status)} cannot be {_DONE[action]}",
            code=ErrorCode(f"cannot_{action.value}_{facts.status.value}"),
        )
    if action in (Action.SCHEDULE, Action.OPEN):
        if facts.question_count == 0:
            raise TransitionNotAllowed(
                "Add at least one question first", code=ErrorCode.POLL_HAS_NO_QUESTIONS
            )
        if facts.closes_at is not None and _aware(facts.closes_at) <= now:
            raise TransitionNotAllowed(
                "The closing time has already passed; set a later one", code=ErrorCode.CLOSING_TIME_PASSED
            )
    if action is Action.SCHEDULE and (facts.opens_at is None or facts.closes_at is None):
        raise TransitionNotAllowed(
            "Set an opening and a closing time before scheduling", code=ErrorCode.POLL_TIMES_MISSING
        )
    return target


def is_editable(status: PollStatus) -> bool:
    """Questions and settings change only in draft: nobody can have seen or answered them."""
    return status is PollStatus.DRAFT


def due_action(facts: PollFacts, now: datetime) -> Action | None:
    """What the scheduler should do to this poll now, if anything."""
    if facts.status is PollStatus.SCHEDULED and facts.opens_at and _aware(facts.opens_at) <= now:
        if facts.closes_at and _aware(facts.closes_at) <= now:
            return None  # missed its whole window while the service was down; leave to officers
        return Action.OPEN
    if facts.status is PollStatus.OPEN and facts.closes_at and _aware(facts.closes_at) <= now:
        return Action.CLOSE
    return None


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; we only ever store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_SHOWN_AFTER = {
    ResultsVisibility.LIVE: {
        PollStatus.OPEN,
        PollStatus.CLOSED,
        PollStatus.UNDER_REVIEW,
        PollStatus.PUBLISHED,
    },
    ResultsVisibility.AFTER_CLOSE: {PollStatus.CLOSED, PollStatus.UNDER_REVIEW, PollStatus.PUBLISHED},
    ResultsVisibility.AFTER_REVIEW: {PollStatus.PUBLISHED},
}


def results_public(visibility: ResultsVisibility, status: PollStatus) -> bool:
    """May residents and the public see this poll's results now?"""
    return status in _SHOWN_AFTER[visibility]
