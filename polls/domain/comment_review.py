"""Reviewing free-text comments before they are published: officers publish each as written or
withhold it with a reason; the public sees "[withheld: reason]" in its place.

A poll's comments are taken out of its ballots when it is counted, shuffled (grouped by question)
and numbered 1, 2, 3...; an officer sees a comment's number, question and text and nothing of the
ballot it came from. Each is stored as {"question_id", "text", "status", "reason"}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import model_validator

from polls.domain.published_ballots import PublishedComment
from polls.domain.validation import StrictSpec
from polls.errors import Conflict, ErrorCode, NotFound
from polls.i18n import N_


class CommentStatus(StrEnum):
    UNREVIEWED = "unreviewed"
    PUBLISHED = "published"
    WITHHELD = "withheld"


class WithholdReason(StrEnum):
    ABUSIVE = "abusive"
    IDENTIFYING = "identifying"
    UNLAWFUL = "unlawful"
    NOT_REVIEWED = "not_reviewed"  # the officer chose to publish without the unreviewed comments


# What "[withheld: ...]" says, in the public's words.
REASON_LABELS = {
    WithholdReason.ABUSIVE: "abusive or offensive",
    WithholdReason.IDENTIFYING: "could identify someone",
    WithholdReason.UNLAWFUL: "unlawful",
    WithholdReason.NOT_REVIEWED: "not reviewed",
}
CHOSEN_REASONS = [r for r in WithholdReason if r is not WithholdReason.NOT_REVIEWED]
STATUS_LABELS = {
    CommentStatus.UNREVIEWED: N_("Not reviewed"),
    CommentStatus.PUBLISHED: N_("Published as written"),
    CommentStatus.WITHHELD: N_("Withheld"),
}
AWAITING = "[withheld: awaiting review]"


class CommentDecisionSpec(StrictSpec):
    """Publish a comment as written, or withhold it with a reason (again later to undo)."""

    decision: CommentStatus
    reason: WithholdReason | None = None

    @model_validator(mode="after")
    def _reason_goes_with_withholding(self) -> CommentDecisionSpec:
        if self.decision is CommentStatus.UNREVIEWED:
            raise ValueError("Choose to publish the comment or to withhold it")
        if self.decision is CommentStatus.WITHHELD and self.reason is None:
            raise ValueError("Choose why the comment is withheld")
        if self.decision is CommentStatus.PUBLISHED and self.reason is not None:
            raise ValueError("A published comment has no reason to withhold it")
        return self


def new_comment(question_id: int, text: str) -> dict[str, Any]:
    return {
        "question_id": question_id,
        "text": text,
        "status": CommentStatus.UNREVIEWED.value,
        "reason": None,
    }


def shown(comment: Mapping[str, Any]) -> str:
    """What the public sees of a comment: its words only once an officer published them."""
    status = CommentStatus(comment["status"])
    if status is CommentStatus.PUBLISHED:
        return str(comment["text"])
    if status is CommentStatus.WITHHELD:
        return f"[withheld: {REASON_LABELS[WithholdReason(comment['reason'])]}]"
    return AWAITING


def published(comments: Sequence[Mapping[str, Any]]) -> list[PublishedComment]:
    return [PublishedComment(int(c["question_id"]), shown(c)) for c in comments]


def decide(
    comments: Sequence[Mapping[str, Any]], number: int, spec: CommentDecisionSpec
) -> list[dict[str, Any]]:
    """The comments with comment ``number`` (from 1) decided; NotFound for no such comment."""
    if not 1 <= number <= len(comments):
        raise NotFound("This poll has no comment with that number", code=ErrorCode.COMMENT_NOT_FOUND)
    out = [dict(c) for c in comments]
    reason = spec.reason.value if spec.reason else None
    out[number - 1] |= {"status": spec.decision.value, "reason": reason}
    return out


def withhold_unreviewed(comments: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Publishing without the comments nobody reviewed: each is withheld as "not reviewed"."""
    out, count = [], 0
    for c in comments:
        if c["status"] == CommentStatus.UNREVIEWED.value:
            c = {**c, "status": CommentStatus.WITHHELD.value, "reason": WithholdReason.NOT_REVIEWED.value}
            count += 1
        out.append(dict(c))
    return out, count


def unreviewed(comments: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for c in comments if c["status"] == CommentStatus.UNREVIEWED.value)


def require_reviewed(comments: Sequence[Mapping[str, Any]]) -> None:
    """Results are published only once every comment is published or withheld."""
    left = unreviewed(comments)
    if left:
        raise Conflict(
            f"{left} comment{'s are' if left != 1 else ' is'} not reviewed yet: publish or withhold "
            "each one on the results page, or choose to withhold every comment not yet reviewed",
            code=ErrorCode.COMMENTS_NOT_REVIEWED,
        )
