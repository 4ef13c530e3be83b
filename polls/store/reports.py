"""The final report's summary: written and changed by council admins while the results are in
review (like the council's responses), fixed once they are published; each change audited."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.final_report import SummarySpec
from polls.store import audit
from polls.store.models import PollReport
from polls.store.results import reviewable


async def summary(session: AsyncSession, poll_id: int) -> str:
    report = await session.get(PollReport, poll_id)
    return report.summary if report else ""


async def set_summary(session: AsyncSession, actor: Actor, poll_id: int, spec: SummarySpec) -> None:
    poll, _ = await reviewable(session, actor, poll_id)
    report = await session.get(PollReport, poll.id, with_for_update=True)
    before = report.summary if report else ""
    if before == spec.summary:
        return
    if report is None:
        session.add(PollReport(poll_id=poll.id, summary=spec.summary, updated_by=actor.email))
    else:
        report.summary, report.updated_by = spec.summary, actor.email
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="report.summary",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        before={"summary": before},
        after={"summary": spec.summary},
    )
