"""Comment review: a decision needs a reason only when withholding, and the public sees the words
only once published."""

from __future__ import annotations

import pytest

from polls.domain import comment_review
from polls.domain.comment_review import CommentDecisionSpec
from polls.domain.validation import parse
from polls.errors import Conflict, NotFound, ValidationFailed


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "withheld"},
        {"decision": "published", "reason": "abusive"},
        {"decision": "unreviewed"},
        {"decision": "withheld", "reason": "boring"},
    ],
)
def test_a_decision_that_makes_no_sense_is_refused(body: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        parse(CommentDecisionSpec, body)


def test_the_public_sees_words_only_once_published_and_publication_waits_for_review() -> None:
    comments = [
        comment_review.new_comment(4, "Call me on 07700 900123"),
        comment_review.new_comment(4, "Yes"),
    ]
    assert [c.text for c in comment_review.published(comments)] == [comment_review.AWAITING] * 2
    with pytest.raises(Conflict):
        comment_review.require_reviewed(comments)
    withhold = parse(CommentDecisionSpec, {"decision": "withheld", "reason": "identifying"})
    comments = comment_review.decide(comments, 1, withhold)
    comments = comment_review.decide(comments, 2, parse(CommentDecisionSpec, {"decision": "published"}))
    assert comment_review.shown(comments[0]) == "[withheld: could identify someone]"
    assert comment_review.shown(comments[1]) == "Yes"
    comment_review.require_reviewed(comments)
    with pytest.raises(NotFound):
        comment_review.decide(comments, 3, withhold)


def test_withholding_the_unreviewed_leaves_decided_comments_alone() -> None:
    comments = [comment_review.new_comment(4, "a"), comment_review.new_comment(4, "b")]
    comments = comment_review.decide(comments, 1, parse(CommentDecisionSpec, {"decision": "published"}))
    after, count = comment_review.withhold_unreviewed(comments)
    assert count == 1
    assert [comment_review.shown(c) for c in after] == ["a", "[withheld: not reviewed]"]
