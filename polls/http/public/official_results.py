"""Official results: the officers' review page, the public results page, its downloads and the
JSON API for review and follow-ups.

Officers with the results role (analysts, council admins) see a poll's official results from
the moment it closes; council admins choose counting methods, write the council's response and
add follow-ups. The public sees them only once published: before that the public pages answer
404, so nothing leaks early.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.exports import PabulibFacts, pabulib, results_csv
from polls.domain.polls import ASSURANCE_LABELS, STATUS_LABELS, Action, Assurance, PollStatus, allowed_actions
from polls.domain.publication import (
    FOLLOW_UP_LABELS,
    METHOD_LABELS,
    REVIEWABLE,
    FollowUpSpec,
    FollowUpStatus,
    MethodSpec,
    ResponseSpec,
    methods_for,
)
from polls.domain.questions import QuestionKind
from polls.domain.result_views import QuestionView, view
from polls.domain.validation import parse
from polls.errors import FieldError, NotFound, ValidationFailed
from polls.http import whole_number
from polls.http.api.pilots import ApiRoute, ok, read_json
from polls.http.council.pilots import page, read_form, see_other
from polls.http.kit.auth import current_actor, staff_only
from polls.http.kit.render import errors_by_field, form_dict, render
from polls.runtime import runtime
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store import results as result_store
from polls.store.ballots import load_poll, poll_definition
from polls.store.models import FollowUp, OfficialResult, Pilot, Poll

PUBLIC_ASSURANCE = {
    Assurance.POLL_CARD: "Poll card: one vote per code posted to each resident",
    Assurance.EVENT: "Event codes: one vote per code handed out at community events",
    Assurance.OPEN: "Open poll: one per browser, not checked against a list of residents",
}


def question_views(poll: Poll, result: OfficialResult) -> list[QuestionView]:
    definition = poll_definition(poll)
    views = []
    for stored in result.questions:
        question = definition.question(stored.question_id)
        if question is not None:
            views.append(view(question, stored.method, stored.result, stored.response))
    return views


def downloads(poll: Poll, result: OfficialResult) -> list[dict[str, str]]:
    base = f"/polls/{poll.id}"
    out = [
        {"href": f"{base}/official.csv", "text": "Results as CSV", "kind": "csv"},
        {"href": f"{base}/official.json", "text": "Results as JSON", "kind": "json"},
        {"href": f"{base}/ballots.jsonl", "text": "Anonymised ballots (for polls recount)", "kind": "jsonl"},
    ]
    for q in poll.questions:
        if q.kind == QuestionKind.BUDGET.value:
            out.append(
                {
                    "href": f"{base}/questions/{q.id}/ballots.pb",
                    "text": f"“{q.title}” in pabulib format (.pb)",
                    "kind": "pb",
                }
            )
    return out


def payload(
    pilot: Pilot, poll: Poll, result: OfficialResult, follow_ups: list[FollowUp] | None = None
) -> dict[str, Any]:
    """The official results as JSON: the public download and the API answer alike."""
    definition = poll_definition(poll)
    questions = []
    for stored in result.questions:
        question = definition.question(stored.question_id)
        questions.append(
            {
                "id": stored.question_id,
                "title": question.title if question else "",
                "kind": question.kind.value if question else "",
                "method": stored.method,
                "result": stored.result,
                "response": stored.response,
            }
        )
    return {
        "pilot": {"id": pilot.id, "name": pilot.name, "council": pilot.council},
        "poll": {"id": poll.id, "title": poll.title, "status": poll.status, "assurance": poll.assurance},
        "ballots": result.ballots,
        "turnout": result.turnout,
        "counted_at": result.counted_at.isoformat(),
        "published_at": result.published_at.isoformat() if result.published_at else None,
        "ballot_file": {"url": f"/polls/{poll.id}/ballots.jsonl", "sha256": result.ballot_file_sha256},
        "questions": questions,
        "follow_ups": [_public_follow_up(f) for f in follow_ups or []],
    }


def _public_follow_up(item: FollowUp) -> dict[str, Any]:
    """A follow-up as the public download shows it: what happened and when, not which officer
    typed it (the staff API and the audit log keep that)."""
    snapshot = result_store.follow_up_snapshot(item)
    return {k: v for k, v in snapshot.items() if k not in ("created_by", "created_at")}


async def _visible(request: Request) -> tuple[Pilot, Poll, OfficialResult, list[FollowUp], bool]:
    """The poll and its official results, if this visitor may see them: everyone once published,
    staff with the results role from closing. Otherwise 404, as if there were none."""
    async with runtime(request).db() as db:
        poll = await load_poll(db, int(request.path_params["poll_id"]))
        result = await result_store.load(db, poll.id)
        pilot = await db.get(Pilot, poll.pilot_id)
        items = (await result_store.follow_ups(db, result_store.POLL, [poll.id])).get(poll.id, [])
    published = poll.status == PollStatus.PUBLISHED.value
    if not published:
        actor = await current_actor(request)
        if actor is None or not actor.can(Permission.VIEW_RESULTS, poll.pilot_id):
            result = None
    if result is None or pilot is None:
        raise NotFound("These results have not been published", code="results_not_published")
    return pilot, poll, result, items, published


def _attachment(body: str, media: str, filename: str) -> Response:
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


# Public pages and downloads


async def official_page(request: Request) -> Response:
    pilot, poll, result, items, published = await _visible(request)
    return render(
        request,
        "results/official.html",
        {
            "pilot": pilot,
            "poll": poll,
            "result": result,
            "published": published,
            "views": question_views(poll, result),
            "assurance": PUBLIC_ASSURANCE[Assurance(poll.assurance)],
            "downloads": downloads(poll, result),
            "follow_ups": items,
            "follow_up_labels": FOLLOW_UP_LABELS,
        },
    )


async def official_csv(request: Request) -> Response:
    _, poll, result, _, _ = await _visible(request)
    return _attachment(results_csv(question_views(poll, result)), "text/csv", f"poll-{poll.id}-results.csv")


async def official_json(request: Request) -> Response:
    pilot, poll, result, items, _ = await _visible(request)
    response = JSONResponse(payload(pilot, poll, result, items))
    response.headers["Content-Disposition"] = f'attachment; filename="poll-{poll.id}-results.json"'
    return response


async def budget_pabulib(request: Request) -> Response:
    pilot, poll, result, _, _ = await _visible(request)
    question_id = int(request.path_params["question_id"])
    question = poll_definition(poll).question(question_id)
    stored = next((q for q in result.questions if q.question_id == question_id), None)
    if question is None or stored is None or question.kind is not QuestionKind.BUDGET:
        raise NotFound("This poll has no such budget question", code="question_not_found")
    facts = PabulibFacts(
        council=pilot.council,
        pilot=pilot.name,
        poll=poll.title,
        opened=poll.opens_at.date() if poll.opens_at else None,
        closed=(poll.closes_at or result.counted_at).date(),
    )
    body = pabulib(
        question,
        result_store.file_ballots(result, question_id),
        stored.method,
        stored.result.get("funded", []),
        facts,
    )
    return _attachment(body, "text/plain", f"poll-{poll.id}-question-{question_id}.pb")


# Officer review


def _review_context(
    pilot: Pilot, poll: Poll, result: OfficialResult | None, items: list[FollowUp], can_manage: bool
) -> dict[str, Any]:
    status = PollStatus(poll.status)
    definition = poll_definition(poll)
    return {
        "pilot": pilot,
        "poll": poll,
        "result": result,
        "views": question_views(poll, result) if result else [],
        "choices": {
            q.id: [(m, METHOD_LABELS.get(m, m)) for m in methods_for(q)] for q in definition.questions
        },
        "reviewable": can_manage and status in REVIEWABLE,
        "can_manage": can_manage,
        "can_publish": can_manage and Action.PUBLISH in allowed_actions(poll_store.facts(poll)),
        "can_review": can_manage and Action.REVIEW in allowed_actions(poll_store.facts(poll)),
        "published": status is PollStatus.PUBLISHED,
        "status_label": STATUS_LABELS[status],
        "assurance": ASSURANCE_LABELS[Assurance(poll.assurance)],
        "follow_ups": items,
        "follow_up_labels": FOLLOW_UP_LABELS,
        "follow_up_choices": [("", "No status"), *((s.value, FOLLOW_UP_LABELS[s]) for s in FollowUpStatus)],
        "downloads": downloads(poll, result) if result else [],
    }


async def _review_data(
    request: Request, actor: Actor
) -> tuple[Pilot, Poll, OfficialResult | None, list[FollowUp]]:
    async with runtime(request).db() as db:
        poll = await poll_store.get_poll(
            db, actor, int(request.path_params["poll_id"]), Permission.VIEW_RESULTS
        )
        pilot = await pilot_store.get_pilot(db, actor, poll.pilot_id, Permission.VIEW_RESULTS)
        result = await result_store.load(db, poll.id)
        items = (await result_store.follow_ups(db, result_store.POLL, [poll.id])).get(poll.id, [])
    return pilot, poll, result, items


async def review_page(request: Request, actor: Actor) -> Response:
    pilot, poll, result, items = await _review_data(request, actor)
    context = _review_context(pilot, poll, result, items, actor.can(Permission.MANAGE_PILOT, pilot.id))
    context.update({"values": {}, "errors": {}})
    return render(request, "results/review.html", context)


async def _rerender(
    request: Request, actor: Actor, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    pilot, poll, result, items = await _review_data(request, actor)
    context = _review_context(pilot, poll, result, items, actor.can(Permission.MANAGE_PILOT, pilot.id))
    context.update({"values": values, "errors": errors})
    return render(request, "results/review.html", context, status_code=422)


async def choose_method(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    poll_id, question_id = int(request.path_params["poll_id"]), int(request.path_params["question_id"])
    field = f"method-{question_id}"
    try:
        spec = parse(MethodSpec, {"method": str(form.get(field, ""))})
        async with runtime(request).db.begin() as db:
            await result_store.set_method(db, actor, poll_id, question_id, spec.method)
    except ValidationFailed as exc:
        return await _rerender(request, actor, dict(form), {field: exc.errors[0].message})
    return see_other(f"/council/polls/{poll_id}/results#question-{question_id}")


async def save_responses(request: Request, actor: Actor) -> Response:
    """Every question's response in one form: all are checked first, and nothing is saved
    unless all are fine."""
    form = await read_form(request)
    poll_id = int(request.path_params["poll_id"])
    specs: dict[int, ResponseSpec] = {}
    errors: list[FieldError] = []
    for key in form:
        question_id = whole_number(key.removeprefix("response-")) if key.startswith("response-") else None
        if question_id is None:
            continue
        try:
            specs[question_id] = parse(ResponseSpec, {"response": str(form.get(key, ""))})
        except ValidationFailed as exc:
            errors += [FieldError(key, e.message) for e in exc.errors]
    if errors:
        return await _rerender(request, actor, dict(form), errors_by_field(errors))
    async with runtime(request).db.begin() as db:
        for question_id, spec in specs.items():
            await result_store.set_response(db, actor, poll_id, question_id, spec)
    return see_other(f"/council/polls/{poll_id}/results#responses")


async def add_follow_up(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    poll_id = int(request.path_params["poll_id"])
    data = {k: v for k, v in form_dict(form).items() if k in ("title", "body", "milestone_on", "status")}
    try:
        spec = parse(FollowUpSpec, data)
        async with runtime(request).db.begin() as db:
            await result_store.add_follow_up(db, actor, poll_id, spec)
    except ValidationFailed as exc:
        return await _rerender(request, actor, dict(form), errors_by_field(exc.errors))
    return see_other(f"/council/polls/{poll_id}/results#follow-ups")


# JSON API


async def _api_payload(request: Request, actor: Actor) -> dict[str, Any]:
    pilot, poll, result, items = await _review_data(request, actor)
    if result is None:
        raise NotFound("This poll has not closed, so it has no official results yet", code="no_results_yet")
    body = payload(pilot, poll, result, items)
    definition = poll_definition(poll)
    for q in body["questions"]:
        question = definition.question(q["id"])
        q["methods_available"] = list(methods_for(question)) if question else []
    return body


@staff_only
async def api_official(request: Request, actor: Actor) -> Response:
    return ok(await _api_payload(request, actor))


@staff_only
async def api_method(request: Request, actor: Actor) -> Response:
    spec = parse(MethodSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        await result_store.set_method(
            db,
            actor,
            int(request.path_params["poll_id"]),
            int(request.path_params["question_id"]),
            spec.method,
        )
    return ok(await _api_payload(request, actor))


@staff_only
async def api_response(request: Request, actor: Actor) -> Response:
    spec = parse(ResponseSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        await result_store.set_response(
            db, actor, int(request.path_params["poll_id"]), int(request.path_params["question_id"]), spec
        )
    return ok(await _api_payload(request, actor))


@staff_only
async def api_follow_ups(request: Request, actor: Actor) -> Response:
    items = (await _review_data(request, actor))[3]
    return ok([result_store.follow_up_snapshot(f) for f in items])


@staff_only
async def api_add_follow_up(request: Request, actor: Actor) -> Response:
    spec = parse(FollowUpSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        item = await result_store.add_follow_up(db, actor, int(request.path_params["poll_id"]), spec)
        return ok(result_store.follow_up_snapshot(item), 201)


QUESTION = "/api/polls/{poll_id:id}/official/questions/{question_id:id}"

API: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/polls/{poll_id:id}/official",
        api_official,
        "Official results (from closing; results role): every round, tie-breaks, methods, responses",
    ),
    ApiRoute(
        "PUT",
        f"{QUESTION}/method",
        api_method,
        "Count a question by another method (closed or under review; council admins)",
        MethodSpec,
    ),
    ApiRoute(
        "PUT",
        f"{QUESTION}/response",
        api_response,
        "The council's response to a question: you said, we did (closed or under review)",
        ResponseSpec,
    ),
    ApiRoute("GET", "/api/polls/{poll_id:id}/follow-ups", api_follow_ups, "A published poll's follow-ups"),
    ApiRoute(
        "POST",
        "/api/polls/{poll_id:id}/follow-ups",
        api_add_follow_up,
        "Add a dated follow-up to a published poll (council admins)",
        FollowUpSpec,
    ),
]

GET, POST = ["GET"], ["POST"]

routes: list[BaseRoute] = [
    Route("/polls/{poll_id:id}/official", official_page, methods=GET),
    Route("/polls/{poll_id:id}/official.csv", official_csv, methods=GET),
    Route("/polls/{poll_id:id}/official.json", official_json, methods=GET),
    Route("/polls/{poll_id:id}/questions/{question_id:id}/ballots.pb", budget_pabulib, methods=GET),
    Route("/council/polls/{poll_id:id}/results", page(review_page), methods=GET),
    Route("/council/polls/{poll_id:id}/results/responses", page(save_responses), methods=POST),
    Route(
        "/council/polls/{poll_id:id}/results/questions/{question_id:id}/method",
        page(choose_method),
        methods=POST,
    ),
    Route("/council/polls/{poll_id:id}/follow-ups", page(add_follow_up), methods=POST),
]
