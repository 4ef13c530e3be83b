"""The officers' review of a poll's official results: counting methods, the council's response to
each question, and follow-ups (the JSON API for them is polls.http.api.results).

Officers with the results role (analysts, council admins) see the official results from the
moment the poll closes; council admins choose counting methods, write the response and add
follow-ups."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain import comment_review
from polls.domain.access import Actor, Permission
from polls.domain.comment_review import CHOSEN_REASONS, REASON_LABELS, CommentDecisionSpec
from polls.domain.polls import (
    ASSURANCE_LABELS,
    STATUS_LABELS,
    Action,
    Assurance,
    PollStatus,
    allowed_actions,
)
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
from polls.domain.published_ballots import LAYOUT_LABELS
from polls.domain.validation import parse
from polls.errors import FieldError, ValidationFailed
from polls.http.kit.forms import errors_by_field, form_dict, read_form, see_other, whole_number
from polls.http.kit.guards import page, poll_staff, staff_poll
from polls.http.kit.render import render
from polls.http.public.official_results import downloads, file_layout, question_views
from polls.runtime import runtime
from polls.store import comments as comment_store
from polls.store import polls as poll_store
from polls.store import results as result_store
from polls.store.ballots import poll_definition
from polls.store.models import FollowUp, OfficialResult, Pilot, Poll


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
        **_comments_context(definition, result),
    }


def _comments_context(definition: Any, result: OfficialResult | None) -> dict[str, Any]:
    comments = result.comments if result else []
    titles = {q.id: q.title for q in definition.questions}
    return {
        "comments": [
            {"number": n, "question": titles.get(c["question_id"], ""), **c}
            for n, c in enumerate(comments, start=1)
        ],
        "unreviewed": comment_review.unreviewed(comments),
        "comment_status_labels": comment_review.STATUS_LABELS,
        "reason_labels": REASON_LABELS,
        "reason_choices": [
            ("", "Choose a reason"),
            *((r.value, REASON_LABELS[r].capitalize()) for r in CHOSEN_REASONS),
        ],
        "layout": LAYOUT_LABELS[file_layout(result)] if result else "",
    }


async def official_result(request: Request, poll: Poll) -> tuple[OfficialResult | None, list[FollowUp]]:
    """The poll's official results (None before it closes) and its follow-ups."""
    async with runtime(request).db() as db:
        result = await result_store.load(db, poll.id)
        items = (await result_store.follow_ups(db, result_store.POLL, [poll.id])).get(poll.id, [])
    return result, items


async def _review(
    request: Request,
    actor: Actor,
    poll: Poll,
    pilot: Pilot,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    result, items = await official_result(request, poll)
    context = _review_context(pilot, poll, result, items, actor.can(Permission.MANAGE_PILOT, pilot.id))
    context.update({"values": values or {}, "errors": errors or {}})
    return render(request, "results/review.html", context, status_code=status_code)


@poll_staff(Permission.VIEW_RESULTS)
async def review_page(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    return await _review(request, actor, poll, pilot)


async def _rerender(
    request: Request, actor: Actor, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    # The changes themselves are checked by the store (council admins only); showing the page
    # again needs what the review page needs.
    poll, pilot = await staff_poll(request, actor, Permission.VIEW_RESULTS)
    return await _review(request, actor, poll, pilot, values, errors, status_code=422)


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


async def decide_comment(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    poll_id, number = int(request.path_params["poll_id"]), int(request.path_params["number"])
    field = f"reason-{number}"
    data = {"decision": str(form.get("decision", "")), "reason": str(form.get(field, "")) or None}
    try:
        spec = parse(CommentDecisionSpec, data)
        async with runtime(request).db.begin() as db:
            await comment_store.decide(db, actor, poll_id, number, spec)
    except ValidationFailed as exc:
        return await _rerender(request, actor, dict(form), {field: exc.errors[0].message})
    return see_other(f"/council/polls/{poll_id}/results#comment-{number}")


async def withhold_unreviewed(request: Request, actor: Actor) -> Response:
    await read_form(request)
    poll_id = int(request.path_params["poll_id"])
    async with runtime(request).db.begin() as db:
        await comment_store.withhold_unreviewed(db, actor, poll_id)
    return see_other(f"/council/polls/{poll_id}/results#comments")


GET, POST = ["GET"], ["POST"]

routes: list[BaseRoute] = [
    Route("/council/polls/{poll_id:id}/results", page(review_page), methods=GET),
    Route("/council/polls/{poll_id:id}/results/responses", page(save_responses), methods=POST),
    Route(
        "/council/polls/{poll_id:id}/results/questions/{question_id:id}/method",
        page(choose_method),
        methods=POST,
    ),
    Route("/council/polls/{poll_id:id}/results/comments/{number:id}", page(decide_comment), methods=POST),
    Route(
        "/council/polls/{poll_id:id}/results/comments/withhold-unreviewed",
        page(withhold_unreviewed),
        methods=POST,
    ),
    Route("/council/polls/{poll_id:id}/follow-ups", page(add_follow_up), methods=POST),
]
