"""A jury's report through the API: the report across its sessions, the council's responses to its
recommendations, publication and follow-ups."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor
from polls.domain.jury_report import JuryResponseSpec
from polls.domain.publication import FollowUpSpec
from polls.domain.validation import parse
from polls.http.api.kit import ApiRoute, ok, read_json
from polls.http.kit.forms import path_int
from polls.http.kit.guards import staff_only
from polls.runtime import runtime
from polls.store import jury_reports as store


async def _api_report(request: Request, actor: Actor) -> dict[str, Any]:
    async with runtime(request).db() as db:
        report = await store.staff_report(db, actor, path_int(request, "jury_id"))
    return {"status": report.jury.status, **report.data}


@staff_only
async def api_report(request: Request, actor: Actor) -> Response:
    return ok(await _api_report(request, actor))


@staff_only
async def api_response(request: Request, actor: Actor) -> Response:
    spec = parse(JuryResponseSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        await store.set_response(
            db,
            actor,
            path_int(request, "jury_id"),
            path_int(request, "session_id"),
            path_int(request, "recommendation_id"),
            spec,
        )
    return ok(await _api_report(request, actor))


@staff_only
async def api_publish(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        await store.publish(db, actor, path_int(request, "jury_id"))
    runtime(request).messages_queued()  # the jurors' thank-you messages
    return ok(await _api_report(request, actor))


@staff_only
async def api_follow_ups(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        report = await store.staff_report(db, actor, path_int(request, "jury_id"))
    return ok(report.data["follow_ups"])


@staff_only
async def api_add_follow_up(request: Request, actor: Actor) -> Response:
    spec = parse(FollowUpSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        item = await store.add_follow_up(db, actor, path_int(request, "jury_id"), spec)
        return ok({"id": item.id, **store.follow_up_json(item)}, 201)


J = "/api/juries/{jury_id:id}"

OPERATIONS: list[ApiRoute] = [
    ApiRoute(
        "GET",
        J + "/report",
        api_report,
        "The jury's report across its sessions, with the council's responses (every role in the pilot)",
    ),
    ApiRoute(
        "PUT",
        J + "/report/sessions/{session_id:id}/recommendations/{recommendation_id:id}/response",
        api_response,
        "The council's response to a recommendation the jury voted on (in session; council admins)",
        JuryResponseSpec,
    ),
    ApiRoute(
        "POST",
        J + "/report/publish",
        api_publish,
        "Publish the report: every session ended, every recommendation voted on answered (council admins)",
    ),
    ApiRoute("GET", J + "/follow-ups", api_follow_ups, "A reported jury's follow-ups"),
    ApiRoute(
        "POST",
        J + "/follow-ups",
        api_add_follow_up,
        "Add a dated follow-up to a reported jury (council admins)",
        FollowUpSpec,
    ),
]
