"""Polls through the API: draft one, change its settings and questions, move it through its lifecycle."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor, Permission
from polls.domain.polls import Action, NewPollSpec, PollSpec, allowed_actions
from polls.domain.questions import QuestionSpec
from polls.domain.validation import StrictSpec, parse
from polls.errors import ValidationFailed
from polls.http.api.kit import ApiRoute, ok, read_json
from polls.http.kit.forms import path_int
from polls.http.kit.guards import pilot_staff, poll_staff, staff_only
from polls.runtime import runtime
from polls.store import lifecycle as poll_lifecycle
from polls.store import polls as poll_store
from polls.store.models import Pilot, Poll


class QuestionOrderSpec(StrictSpec):
    question_ids: list[int]


def _poll_body(poll: Poll) -> dict[str, Any]:
    body = poll_store.poll_snapshot(poll)
    body["allowed_actions"] = [a.value for a in allowed_actions(poll_store.facts(poll))]
    return body


@staff_only
@pilot_staff(Permission.VIEW_PILOT)
async def list_polls(request: Request, actor: Actor, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        return ok([_poll_body(p) for p in await poll_store.list_polls(db, pilot.id)])


@staff_only
async def create_poll(request: Request, actor: Actor) -> Response:
    spec = parse(NewPollSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        poll = await poll_store.create_poll(db, actor, path_int(request, "pilot_id"), spec)
        return ok(_poll_body(poll), 201)


@staff_only
@poll_staff(Permission.VIEW_PILOT)
async def get_poll(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    return ok(_poll_body(poll))


@staff_only
async def update_poll(request: Request, actor: Actor) -> Response:
    spec = parse(PollSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        poll = await poll_store.update_poll(db, actor, path_int(request, "poll_id"), spec)
        return ok(_poll_body(poll))


@staff_only
async def add_question(request: Request, actor: Actor) -> Response:
    spec = parse(QuestionSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        question = await poll_store.add_question(db, actor, path_int(request, "poll_id"), spec)
        return ok(poll_store.question_snapshot(question), 201)


@staff_only
async def update_question(request: Request, actor: Actor) -> Response:
    spec = parse(QuestionSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        question = await poll_store.update_question(
            db, actor, path_int(request, "poll_id"), path_int(request, "question_id"), spec
        )
        return ok(poll_store.question_snapshot(question))


@staff_only
async def delete_question(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        await poll_store.delete_question(
            db, actor, path_int(request, "poll_id"), path_int(request, "question_id")
        )
    return Response(status_code=204)


@staff_only
async def reorder_questions(request: Request, actor: Actor) -> Response:
    spec = parse(QuestionOrderSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        poll = await poll_store.reorder_questions(db, actor, path_int(request, "poll_id"), spec.question_ids)
        return ok(_poll_body(poll))


@staff_only
async def poll_action(request: Request, actor: Actor) -> Response:
    raw = request.path_params["action"]
    try:
        action = Action(raw)
    except ValueError:
        choices = ", ".join(a.value for a in Action)
        raise ValidationFailed.one("action", f"Unknown action '{raw}'; use one of {choices}") from None
    async with runtime(request).db.begin() as db:
        poll = await poll_lifecycle.transition(db, actor, path_int(request, "poll_id"), action)
        body = _poll_body(poll)
    if action is Action.CLOSE:  # committed: the live figures may now show every ballot
        await runtime(request).tallies.finish(poll.id)
    return ok(body)


OPERATIONS: list[ApiRoute] = [
    ApiRoute("GET", "/api/pilots/{pilot_id:id}/polls", list_polls, "A pilot's polls"),
    ApiRoute("POST", "/api/pilots/{pilot_id:id}/polls", create_poll, "Draft a poll", NewPollSpec),
    ApiRoute("GET", "/api/polls/{poll_id:id}", get_poll, "A poll with its questions"),
    ApiRoute("PUT", "/api/polls/{poll_id:id}", update_poll, "Change a draft poll's settings", PollSpec),
    ApiRoute("POST", "/api/polls/{poll_id:id}/questions", add_question, "Add a question", QuestionSpec),
    ApiRoute(
        "PUT",
        "/api/polls/{poll_id:id}/questions/order",
        reorder_questions,
        "Reorder questions",
        QuestionOrderSpec,
    ),
    ApiRoute(
        "PUT",
        "/api/polls/{poll_id:id}/questions/{question_id:id}",
        update_question,
        "Replace a question (its options in the order given)",
        QuestionSpec,
    ),
    ApiRoute(
        "DELETE",
        "/api/polls/{poll_id:id}/questions/{question_id:id}",
        delete_question,
        "Delete a question",
    ),
    ApiRoute(
        "POST",
        "/api/polls/{poll_id:id}/actions/{action}",
        poll_action,
        "Move the poll: schedule, unschedule, open, close, review or publish",
    ),
]
