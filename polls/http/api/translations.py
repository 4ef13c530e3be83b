"""A draft poll's texts in the pilot's other languages, through the API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from polls.domain.access import Actor, Permission
from polls.domain.translations import PollTranslation
from polls.domain.validation import parse
from polls.http.api.kit import ApiRoute, read_json
from polls.http.kit.guards import poll_staff, staff_only
from polls.runtime import runtime
from polls.store import polls as poll_store
from polls.store.models import Pilot, Poll


@staff_only
async def put_translation(request: Request, actor: Actor) -> Response:
    spec = parse(PollTranslation, await read_json(request))
    poll_id, language = int(request.path_params["poll_id"]), request.path_params["language"]
    async with runtime(request).db.begin() as db:
        poll = await poll_store.set_translation(db, actor, poll_id, language, spec)
        return JSONResponse(poll_store.translation_snapshot(poll, language))


@staff_only
@poll_staff(Permission.VIEW_PILOT)
async def get_translation(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    return JSONResponse(poll_store.translation_snapshot(poll, request.path_params["language"]))


OPERATIONS: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/polls/{poll_id:id}/translations/{language}",
        get_translation,
        "A poll's texts in a language",
    ),
    ApiRoute(
        "PUT",
        "/api/polls/{poll_id:id}/translations/{language}",
        put_translation,
        "Set a draft poll's texts in one of the pilot's other languages",
        PollTranslation,
    ),
]
