"""Officers' review of a closed poll's free-text comments: publish each as written or withhold it
with a reason. Each decision rewrites the ballot file's comment lines and is audited by number,
status and reason, never with the text, so the audit log does not republish withheld words."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain import comment_review
from polls.domain.access import Actor
from polls.domain.comment_review import CommentDecisionSpec
from polls.store import audit
from polls.store.models import OfficialResult
from polls.store.results import reviewable, rewrite_file


async def decide(
    session: AsyncSession, actor: Actor, poll_id: int, number: int, spec: CommentDecisionSpec
) -> OfficialResult:
    """Publish or withhold comment ``number``; deciding again (un-withholding) is allowed until
    the results are published."""
    poll, result = await reviewable(session, actor, poll_id)
    comments = comment_review.decide(result.comments, number, spec)
    before, after = result.comments[number - 1], comments[number - 1]
    if (before["status"], before["reason"]) == (after["status"], after["reason"]):
        return result
    result.comments = comments
    rewrite_file(poll, result, len(comments))
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action=f"results.comment_{spec.decision.value}",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        before=_facts(number, before),
        after=_facts(number, after) | {"ballot_file_sha256": result.ballot_file_sha256},
    )
    return result


async def withhold_unreviewed(session: AsyncSession, actor: Actor, poll_id: int) -> OfficialResult:
    """The explicit choice to publish without the comments nobody has reviewed."""
    poll, result = await reviewable(session, actor, poll_id)
    comments, count = comment_review.withhold_unreviewed(result.comments)
    if not count:
        return result
    result.comments = comments
    rewrite_file(poll, result, len(comments))
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="results.comments_withhold_unreviewed",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        after={
            "comments": count,
            "reason": comment_review.WithholdReason.NOT_REVIEWED.value,
            "ballot_file_sha256": result.ballot_file_sha256,
        },
    )
    return result


def _facts(number: int, comment: dict[str, Any]) -> dict[str, Any]:
    return {
        "comment": number,
        "question_id": comment["question_id"],
        "status": comment["status"],
        "reason": comment["reason"],
    }
