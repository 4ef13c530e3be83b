"""Publishing a poll's official results: counting methods officers may choose, the council's
response to each question, and follow-up updates on what the council did afterwards."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from polls.domain.ballots import QuestionDef
from polls.domain.counting.official import METHODS, usual_method
from polls.domain.polls import PollStatus
from polls.domain.questions import QuestionKind
from polls.domain.validation import StrictSpec
from polls.errors import Conflict, ErrorCode, ValidationFailed
from polls.i18n import N_

METHOD_LABELS = {
    "plurality": N_("Most votes (first preferences only)"),
    "approval": N_("Approval: most supporters"),
    "instant_runoff": N_("Instant runoff (one winner)"),
    "stv": N_("Single transferable vote (Scottish rules)"),
    "borda": N_("Borda count (comparison)"),
    "condorcet": N_("Condorcet winner (comparison)"),
    "schulze": N_("Schulze ranking (comparison)"),
    "scale": N_("Distribution, mean and median"),
    "greedy": N_("Greedy: most votes first, while money lasts"),
    "equal_shares": N_("Method of Equal Shares"),
    "equal_shares_cost": N_("Method of Equal Shares, cost utilities"),
}

RESPONSE_MAX = 5000


class FollowUpStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


FOLLOW_UP_LABELS = {
    FollowUpStatus.PLANNED: N_("Planned"),
    FollowUpStatus.IN_PROGRESS: N_("In progress"),
    FollowUpStatus.DONE: N_("Done"),
}


class MethodSpec(StrictSpec):
    method: str = Field(min_length=1, max_length=30)


class ResponseSpec(StrictSpec):
    """The council's response to one question; blank clears it."""

    response: str = Field(default="", max_length=RESPONSE_MAX)


class FollowUpSpec(StrictSpec):
    title: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=3, max_length=5000)
    milestone_on: date
    status: FollowUpStatus | None = None


def methods_for(question: QuestionDef) -> tuple[str, ...]:
    """The methods an officer may choose for a question, the usual one first; none for comments."""
    if question.kind is QuestionKind.COMMENT:
        return ()
    usual = usual_method(question)
    return (usual, *(m for m in METHODS[question.kind] if m != usual))


def check_method(question: QuestionDef, method: str) -> str:
    choices = methods_for(question)
    if not choices:
        raise ValidationFailed.one(
            "method",
            "Comments are read, not counted: there is no method to choose",
            code=ErrorCode.NOT_COUNTED,
        )
    if method not in choices:
        names = ", ".join(choices)
        raise ValidationFailed.one(
            "method",
            f"Choose one of the methods for this question: {names}",
            code=ErrorCode.METHOD_NOT_AVAILABLE,
        )
    return method


REVIEWABLE = frozenset({PollStatus.CLOSED, PollStatus.UNDER_REVIEW})


def require_reviewable(status: PollStatus) -> None:
    """Methods and responses change only between closing and publication."""
    if status is PollStatus.PUBLISHED:
        raise Conflict(
            "These results are published and can no longer change; add a follow-up instead",
            code=ErrorCode.RESULTS_PUBLISHED,
        )
    if status not in REVIEWABLE:
        raise Conflict(
            "The poll has not closed yet, so there are no results to review", code=ErrorCode.POLL_NOT_CLOSED
        )


def require_published(status: PollStatus) -> None:
    if status is not PollStatus.PUBLISHED:
        raise Conflict(
            "Follow-ups are added once the results are published", code=ErrorCode.RESULTS_NOT_PUBLISHED
        )
