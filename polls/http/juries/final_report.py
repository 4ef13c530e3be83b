"""A jury's report and the council's answer: the officers' review page, the public report with its
CSV and JSON downloads (the JSON API for them is polls.http.api.jury_reports).

Every role in the pilot reads the review page; only council admins answer recommendations,
publish and add follow-ups. Before publication the public report answers 404 (staff see a marked
preview). Nothing here ever shows who voted how: the report is built from the observers' view.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.juries import STATUS_LABELS, JuryStatus
from polls.domain.jury_report import DECISION_LABELS, JuryResponseSpec, jury_report_csv, voted
from polls.domain.publication import FOLLOW_UP_LABELS, FollowUpSpec, FollowUpStatus
from polls.domain.validation import parse
from polls.errors import Conflict, FieldError, ValidationFailed
from polls.http.kit.auth import current_actor
from polls.http.kit.forms import errors_by_field, form_dict, path_int, read_form, see_other
from polls.http.kit.guards import page
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import jury_reports as store
from polls.store.jury_reports import Report


def _key(r: dict[str, Any]) -> str:
    return f"{r['session_id']}-{r['id']}"


def _saved_values(report: Report) -> dict[str, str]:
    values = {}
    for r in voted(report.data):
        if r["response"]:
            values[f"decision-{_key(r)}"] = r["response"]["decision"]
            values[f"explanation-{_key(r)}"] = r["response"]["explanation"]
    return values


async def _review(
    request: Request,
    actor: Actor,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    async with runtime(request).db() as db:
        report = await store.staff_report(db, actor, path_int(request, "jury_id"))
    jury = report.jury
    can_manage = actor.can(Permission.MANAGE_PILOT, jury.pilot_id)
    context = {
        "jury": jury,
        "report": report.data,
        "published": report.published,
        "follow_ups": report.follow_ups,
        "status_label": STATUS_LABELS[JuryStatus(jury.status)],
        "editable": can_manage and jury.status == JuryStatus.IN_SESSION,
        "can_manage": can_manage,
        "reported": jury.status == JuryStatus.REPORTED,
        "decisions": [(d.value, label) for d, label in DECISION_LABELS.items()],
        "key": _key,
        "values": _saved_values(report) if values is None else values,
        "errors": errors or {},
        "refusal": refusal,
        "follow_up_labels": FOLLOW_UP_LABELS,
        "follow_up_choices": [("", "No status"), *((s.value, FOLLOW_UP_LABELS[s]) for s in FollowUpStatus)],
    }
    return render(request, "jury_reports/review.html", context, status_code=status_code)


async def review_page(request: Request, actor: Actor) -> Response:
    return await _review(request, actor)


def responses_from_form(form: dict[str, Any]) -> dict[tuple[int, int], JuryResponseSpec]:
    """Every recommendation's decision and explanation from one form, all checked before any is
    saved; a recommendation whose two fields are both blank is left unanswered."""
    specs: dict[tuple[int, int], JuryResponseSpec] = {}
    errors: list[FieldError] = []
    for name in form:
        session_id, _, recommendation_id = name.removeprefix("decision-").partition("-")
        if not name.startswith("decision-") or not (session_id.isdigit() and recommendation_id.isdigit()):
            continue
        suffix = f"{session_id}-{recommendation_id}"
        decision, explanation = str(form[name]).strip(), str(form.get(f"explanation-{suffix}", "")).strip()
        if not decision and not explanation:
            continue
        try:
            specs[(int(session_id), int(recommendation_id))] = parse(
                JuryResponseSpec, {"decision": decision, "explanation": explanation}
            )
        except ValidationFailed as exc:
            errors += [FieldError(f"{e.field}-{suffix}", e.message) for e in exc.errors]
    if errors:
        raise ValidationFailed(errors)
    return specs


async def save_responses(request: Request, actor: Actor) -> Response:
    form = form_dict(await read_form(request))
    jury_id = path_int(request, "jury_id")
    # Radios left unchosen send nothing: name every explanation's decision so it is checked too.
    for name in list(form):
        if name.startswith("explanation-"):
            form.setdefault("decision-" + name.removeprefix("explanation-"), "")
    try:
        specs = responses_from_form(form)
    except ValidationFailed as exc:
        return await _review(request, actor, values=form, errors=errors_by_field(exc.errors), status_code=422)
    async with runtime(request).db.begin() as db:
        for (session_id, recommendation_id), spec in specs.items():
            await store.set_response(db, actor, jury_id, session_id, recommendation_id, spec)
    return see_other(f"/council/juries/{jury_id}/report#recommendations")


async def publish_page(request: Request, actor: Actor) -> Response:
    await read_form(request)
    jury_id = path_int(request, "jury_id")
    try:
        async with runtime(request).db.begin() as db:
            await store.publish(db, actor, jury_id)
    except Conflict as exc:
        return await _review(request, actor, refusal=exc.message, status_code=409)
    runtime(request).messages_queued()  # the jurors' thank-you messages
    return see_other(f"/juries/{jury_id}/report")


async def follow_up_page(request: Request, actor: Actor) -> Response:
    form = form_dict(await read_form(request))
    jury_id = path_int(request, "jury_id")
    data = {k: v for k, v in form.items() if k in ("title", "body", "milestone_on", "status")}
    try:
        spec = parse(FollowUpSpec, data)
        async with runtime(request).db.begin() as db:
            await store.add_follow_up(db, actor, jury_id, spec)
    except ValidationFailed as exc:
        return await _review(request, actor, values=form, errors=errors_by_field(exc.errors), status_code=422)
    return see_other(f"/council/juries/{jury_id}/report#follow-ups")


# The public report


async def _public(request: Request) -> Report:
    actor = await current_actor(request)
    async with runtime(request).db() as db:
        return await store.public_report(db, path_int(request, "jury_id"), actor)


async def public_page(request: Request) -> Response:
    report = await _public(request)
    context = {
        "jury": report.jury,
        "report": report.data,
        "published": report.published,
        "follow_ups": report.follow_ups,
        "follow_up_labels": FOLLOW_UP_LABELS,
        "editable": False,
        "preview": report.published is None,
    }
    return render(request, "jury_reports/public.html", context)


def _download(report: Report, extension: str) -> dict[str, str]:
    name = f"jury{report.jury.id}-report{'-preview' if report.published is None else ''}.{extension}"
    cache = "max-age=60" if report.published else "no-store"
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": cache}


async def public_json(request: Request) -> Response:
    report = await _public(request)
    return JSONResponse(report.data, headers=_download(report, "json"))


async def public_csv(request: Request) -> Response:
    report = await _public(request)
    return Response(
        jury_report_csv(report.data), media_type="text/csv; charset=utf-8", headers=_download(report, "csv")
    )


GET, POST = ["GET"], ["POST"]

routes: list[BaseRoute] = [
    Route("/juries/{jury_id:id}/report", public_page, methods=GET),
    Route("/juries/{jury_id:id}/report.json", public_json, methods=GET),
    Route("/juries/{jury_id:id}/report.csv", public_csv, methods=GET),
    Route("/council/juries/{jury_id:id}/report", page(review_page), methods=GET),
    Route("/council/juries/{jury_id:id}/report/responses", page(save_responses), methods=POST),
    Route("/council/juries/{jury_id:id}/report/publish", page(publish_page), methods=POST),
    Route("/council/juries/{jury_id:id}/follow-ups", page(follow_up_page), methods=POST),
]
