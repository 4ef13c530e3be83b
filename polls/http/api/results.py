"""Results through the API: live counts anyone may follow (when public), and the official results
with their review (counting methods, the council's responses, follow-ups) for staff."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from polls.domain.access import Actor, Permission
from polls.domain.comment_review import CommentDecisionSpec, shown
from polls.domain.publication import (
    FollowUpSpec,
    MethodSpec,
    ResponseSpec,
    methods_for,
)
from polls.domain.validation import parse
from polls.errors import ErrorCode, Forbidden, NotFound
from polls.http.api.kit import ApiRoute, ok, read_json
from polls.http.council.results_review import official_result
from polls.http.kit.guards import poll_staff, staff_only, staff_poll
from polls.http.public.live import may_see_results, results_payload
from polls.http.public.official_results import payload
from polls.runtime import runtime
from polls.store import comments as comment_store
from polls.store import results as result_store
from polls.store.ballots import load_poll, poll_definition
from polls.store.models import Pilot, Poll


async def _api_payload(request: Request, actor: Actor) -> dict[str, Any]:
    poll, pilot = await staff_poll(request, actor, Permission.VIEW_RESULTS)
    return await _official_body(request, poll, pilot)


async def _official_body(request: Request, poll: Poll, pilot: Pilot) -> dict[str, Any]:
    result, items = await official_result(request, poll)
    if result is None:
        raise NotFound(
            "This poll has not closed, so it has no official results yet", code=ErrorCode.NO_RESULTS_YET
        )
    body = payload(pilot, poll, result, items)
    definition = poll_definition(poll)
    for q in body["questions"]:
        question = definition.question(q["id"])
        q["methods_available"] = list(methods_for(question)) if question else []
    return body


@staff_only
@poll_staff(Permission.VIEW_RESULTS)
async def api_official(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    return ok(await _official_body(request, poll, pilot))


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
@poll_staff(Permission.VIEW_RESULTS)
async def api_follow_ups(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    _, items = await official_result(request, poll)
    return ok([result_store.follow_up_snapshot(f) for f in items])


@staff_only
async def api_add_follow_up(request: Request, actor: Actor) -> Response:
    spec = parse(FollowUpSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        item = await result_store.add_follow_up(db, actor, int(request.path_params["poll_id"]), spec)
        return ok(result_store.follow_up_snapshot(item), 201)


def _comments_body(comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each comment for its reviewers: its number, question, words and review; nothing of the
    ballot it came from."""
    return [{"number": n, **c, "published_as": shown(c)} for n, c in enumerate(comments, start=1)]


@staff_only
@poll_staff(Permission.VIEW_RESULTS)
async def api_comments(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    result, _ = await official_result(request, poll)
    if result is None:
        raise NotFound(
            "This poll has not closed, so it has no comments to review yet", code=ErrorCode.NO_RESULTS_YET
        )
    return ok(_comments_body(result.comments))


@staff_only
async def api_decide_comment(request: Request, actor: Actor) -> Response:
    spec = parse(CommentDecisionSpec, await read_json(request))
    poll_id, number = int(request.path_params["poll_id"]), int(request.path_params["number"])
    async with runtime(request).db.begin() as db:
        result = await comment_store.decide(db, actor, poll_id, number, spec)
        return ok(_comments_body(result.comments)[number - 1])


@staff_only
async def api_withhold_unreviewed(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        result = await comment_store.withhold_unreviewed(db, actor, int(request.path_params["poll_id"]))
        return ok(_comments_body(result.comments))


async def live_results(request: Request) -> Response:
    rt = runtime(request)
    async with rt.db() as session:
        poll = await load_poll(session, int(request.path_params["poll_id"]))
    if not await may_see_results(request, poll):
        raise Forbidden("Results for this poll are not public yet", code=ErrorCode.RESULTS_NOT_PUBLIC)
    return JSONResponse(await results_payload(rt, poll))


QUESTION = "/api/polls/{poll_id:id}/official/questions/{question_id:id}"

OPERATIONS: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/polls/{poll_id:id}/results",
        live_results,
        "Live counts of a poll whose results are public",
        public=True,
    ),
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
    ApiRoute(
        "GET",
        "/api/polls/{poll_id:id}/official/comments",
        api_comments,
        "The free-text comments to review (from closing; results role), numbered, without their ballots",
    ),
    ApiRoute(
        "PUT",
        "/api/polls/{poll_id:id}/official/comments/{number:id}",
        api_decide_comment,
        "Publish a comment as written or withhold it with a reason (closed or under review; council admins)",
        CommentDecisionSpec,
    ),
    ApiRoute(
        "POST",
        "/api/polls/{poll_id:id}/official/comments/withhold-unreviewed",
        api_withhold_unreviewed,
        "Publish without the comments not yet reviewed: each is withheld as not reviewed (council admins)",
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
