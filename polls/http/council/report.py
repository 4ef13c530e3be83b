"""The officers' side of the final report: the summary council admins write while the results are
in review, links to the report page and PDF, and the responses with their themes as CSV for the
council's own analysis (withheld ones left out)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain import final_report
from polls.domain.access import Actor, Permission
from polls.domain.final_report import SummarySpec
from polls.domain.polls import PollStatus
from polls.domain.publication import REVIEWABLE
from polls.domain.validation import parse
from polls.errors import ValidationFailed
from polls.http.kit.forms import errors_by_field, path_int, read_form, see_other
from polls.http.kit.guards import page, poll_staff, staff_poll
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import analysis as analysis_store
from polls.store import reports
from polls.store.models import Pilot, Poll


async def _page(
    request: Request,
    actor: Actor,
    poll: Poll,
    pilot: Pilot,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    async with runtime(request).db() as db:
        summary = await reports.summary(db, poll.id)
    status = PollStatus(poll.status)
    context = {
        "pilot": pilot,
        "poll": poll,
        "values": values or {"summary": summary},
        "errors": errors or {},
        "editable": actor.can(Permission.MANAGE_PILOT, pilot.id) and status in REVIEWABLE,
        "counted": status in REVIEWABLE or status is PollStatus.PUBLISHED,
        "published": status is PollStatus.PUBLISHED,
    }
    return render(request, "council/report.html", context, status_code=422 if errors else 200)


@poll_staff(Permission.VIEW_RESULTS)
async def report_page(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    return await _page(request, actor, poll, pilot)


async def save_summary(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    poll_id = path_int(request, "poll_id")
    values = {"summary": str(form.get("summary", "")).replace("\r\n", "\n")}
    try:
        spec = parse(SummarySpec, values)
    except ValidationFailed as exc:
        poll, pilot = await staff_poll(request, actor, Permission.VIEW_RESULTS)
        return await _page(request, actor, poll, pilot, values, errors_by_field(exc.errors))
    async with runtime(request).db.begin() as db:
        await reports.set_summary(db, actor, poll_id, spec)
    return see_other(f"/council/polls/{poll_id}/report")


async def responses_csv(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        found = await analysis_store.load_analysis(db, actor, path_int(request, "poll_id"))
    titles = {q.id: q.title for q in found.poll.questions}
    body = final_report.responses_csv(found.responses, found.readings, found.themes, found.quotes, titles)
    name = f"poll-{found.poll.id}-responses-with-themes.csv"
    return Response(
        body, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


GET, POST = ["GET"], ["POST"]

routes: list[BaseRoute] = [
    Route("/council/polls/{poll_id:id}/report", page(report_page), methods=GET),
    Route("/council/polls/{poll_id:id}/report", page(save_summary), methods=POST),
    Route("/council/polls/{poll_id:id}/analysis/responses.csv", page(responses_csv), methods=GET),
]
