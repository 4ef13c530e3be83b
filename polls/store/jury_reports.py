"""A jury's report and the council's answer: responses to the recommendations the jury voted on,
publication (the jury becomes "reported" and its report public), and follow-ups; all audited.

The report is folded afresh from every session's log in the database (polls.domain.jury_report),
so what officers review and what the public reads are the same facts. Writes lock the jury row:
a session created, a response saved and the publication are serialised per jury.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.juries import JuryStatus, profile_json, require_status
from polls.domain.jury_report import (
    JuryResponseSpec,
    Key,
    Response,
    SessionLog,
    check_publishable,
    jury_report,
)
from polls.domain.publication import FollowUpSpec
from polls.errors import Conflict, ErrorCode, NotFound
from polls.store import audit, juror_messages
from polls.store import results as result_store
from polls.store.juries import get_jury, seated_profile
from polls.store.jury_sessions import load_state, sessions_of
from polls.store.models import FollowUp, Jury, JuryReport, JuryResponse, utcnow


@dataclass(frozen=True)
class Report:
    jury: Jury
    data: dict[str, Any]  # polls.domain.jury_report.jury_report, with "follow_ups"
    published: JuryReport | None
    follow_ups: list[FollowUp]


async def responses_of(session: AsyncSession, jury_id: int) -> dict[Key, Response]:
    query = select(JuryResponse).where(JuryResponse.jury_id == jury_id)
    return {
        (r.session_id, r.recommendation_id): Response(r.decision, r.explanation)
        for r in (await session.scalars(query)).all()
    }


async def report_data(session: AsyncSession, jury: Jury) -> dict[str, Any]:
    sessions = await sessions_of(session, jury.id)
    logs = [SessionLog(s.id, s.title, await load_state(session, s.id)) for s in sessions]
    return jury_report(
        logs,
        jury_title=jury.title,
        remit=jury.remit,
        threshold=jury.threshold,
        profile=profile_json(await seated_profile(session, jury)),
        responses=await responses_of(session, jury.id),
    )


def follow_up_json(item: FollowUp) -> dict[str, Any]:
    return {
        "title": item.title,
        "body": item.body,
        "milestone_on": item.milestone_on.isoformat(),
        "status": item.status,
    }


async def _assemble(session: AsyncSession, jury: Jury) -> Report:
    data = await report_data(session, jury)
    published = await session.get(JuryReport, jury.id)
    items = (await result_store.follow_ups(session, result_store.JURY, [jury.id])).get(jury.id, [])
    data["published_at"] = published.published_at.isoformat() if published else None
    data["follow_ups"] = [follow_up_json(f) for f in items]
    return Report(jury, data, published, items)


async def staff_report(session: AsyncSession, actor: Actor, jury_id: int) -> Report:
    """For officers: every role in the pilot reads the report and its responses as they stand."""
    return await _assemble(session, await get_jury(session, actor, jury_id, Permission.VIEW_PILOT))


async def public_report(session: AsyncSession, jury_id: int, actor: Actor | None) -> Report:
    """The published report; staff of the pilot may preview it before (404 for everyone else)."""
    jury = await session.get(Jury, jury_id)
    preview = actor is not None and jury is not None and actor.can(Permission.VIEW_PILOT, jury.pilot_id)
    if jury is None or (jury.status != JuryStatus.REPORTED and not preview):
        raise NotFound("There is no published report for this jury", code=ErrorCode.REPORT_NOT_PUBLISHED)
    return await _assemble(session, jury)


async def _answerable(session: AsyncSession, actor: Actor, jury_id: int) -> Jury:
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    if jury.status == JuryStatus.REPORTED:
        raise Conflict(
            "The report is published and can no longer change; add a follow-up instead",
            code=ErrorCode.REPORT_PUBLISHED,
        )
    require_status(jury.status, {JuryStatus.IN_SESSION}, "answer the jury's recommendations")
    return jury


async def set_response(
    session: AsyncSession,
    actor: Actor,
    jury_id: int,
    session_id: int,
    recommendation_id: int,
    spec: JuryResponseSpec,
) -> JuryResponse:
    """The council's response to one recommendation the jury voted on (council admins)."""
    jury = await _answerable(session, actor, jury_id)
    data = await report_data(session, jury)
    found = next(
        (r for r in data["recommendations"] if (r["session_id"], r["id"]) == (session_id, recommendation_id)),
        None,
    )
    if found is None:
        raise NotFound("This jury has no such recommendation", code=ErrorCode.RECOMMENDATION_NOT_FOUND)
    if found["status"] != "closed":
        raise Conflict(
            "The jury has not finished voting on this recommendation yet",
            code=ErrorCode.RECOMMENDATION_NOT_VOTED,
        )
    query = select(JuryResponse).where(
        JuryResponse.session_id == session_id, JuryResponse.recommendation_id == recommendation_id
    )
    row = (await session.scalars(query)).one_or_none()
    before = None if row is None else {"decision": row.decision, "explanation": row.explanation}
    after = {"decision": spec.decision, "explanation": spec.explanation}
    if before == after and row is not None:
        return row
    if row is None:
        row = JuryResponse(
            jury_id=jury.id,
            session_id=session_id,
            recommendation_id=recommendation_id,
            updated_by=actor.email,
        )
        session.add(row)
    row.decision, row.explanation = spec.decision, spec.explanation
    row.updated_by, row.updated_at = actor.email, utcnow()
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="jury_report.response",
        target=f"jury:{jury.id}",
        pilot_id=jury.pilot_id,
        before=before,
        after={"session_id": session_id, "recommendation": recommendation_id, **after},
    )
    return row


async def publish(session: AsyncSession, actor: Actor, jury_id: int) -> JuryReport:
    """Publish the report: every session ended, something voted on, every vote answered."""
    jury = await _answerable(session, actor, jury_id)
    data = await report_data(session, jury)
    check_publishable(data)
    published = JuryReport(jury_id=jury.id, published_at=utcnow(), published_by=actor.email)
    session.add(published)
    jury.status = JuryStatus.REPORTED
    thanked = await juror_messages.send_thanks(session, jury)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="jury.report_publish",
        target=f"jury:{jury.id}",
        pilot_id=jury.pilot_id,
        before={"status": JuryStatus.IN_SESSION.value},
        after={
            "status": JuryStatus.REPORTED.value,
            "sessions": [s["id"] for s in data["sessions"]],
            "recommendations": len(data["recommendations"]),
            "jurors_thanked": thanked,
        },
    )
    return published


async def add_follow_up(session: AsyncSession, actor: Actor, jury_id: int, spec: FollowUpSpec) -> FollowUp:
    """A dated update on what the council did about a reported jury (council admins)."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    if jury.status != JuryStatus.REPORTED:
        raise Conflict(
            "Follow-ups are added once the jury's report is published", code=ErrorCode.REPORT_NOT_PUBLISHED
        )
    return await result_store.write_follow_up(session, actor, jury.pilot_id, result_store.JURY, jury.id, spec)
