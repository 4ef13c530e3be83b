"""The council JSON API: the same operations as the officer pages, for scripts and integrations."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from polls.domain.access import Actor, Permission
from polls.domain.pilots import AreaSpec, PilotSpec, StaffRoleSpec, parse_area_csv
from polls.domain.polls import Action, NewPollSpec, PollSpec, allowed_actions
from polls.domain.questions import QuestionSpec
from polls.domain.validation import StrictSpec, parse
from polls.errors import PollsError, ValidationFailed
from polls.http.auth import check_csrf, current_actor, session_of, staff_only
from polls.http.signin import attempt_sign_in, invite_link
from polls.runtime import runtime
from polls.store import audit
from polls.store import lifecycle as poll_lifecycle
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.models import AuditEntry, Poll

MAX_JSON = 1_000_000


class SignInSpec(StrictSpec):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1000)


class StaffRoleBody(StaffRoleSpec):
    name: str = Field(default="", max_length=120)


class QuestionOrderSpec(StrictSpec):
    question_ids: list[int]


@dataclass(frozen=True)
class ApiRoute:
    """One API operation, described once for the router and for the OpenAPI document."""

    method: str
    path: str
    endpoint: Callable[[Request], Awaitable[Response]]
    summary: str
    body: type[BaseModel] | None = None
    body_media: str = "application/json"
    public: bool = False


async def read_json(request: Request, *, limit: int = MAX_JSON) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise PollsError(
            "Send the body as JSON with Content-Type: application/json",
            code="unsupported_media_type",
        )
    raw = await request.body()
    if len(raw) > limit:
        raise PollsError(f"The body is larger than {limit // 1024} KB", code="body_too_large")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PollsError(f"The body is not valid JSON: {exc}", code="invalid_json") from None


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


# Session


async def sign_in(request: Request) -> Response:
    spec = parse(SignInSpec, await read_json(request))
    staff = await attempt_sign_in(request, spec.email, spec.password)
    return ok(
        {
            "staff": {"id": staff.id, "email": staff.email, "name": staff.name},
            "csrf_token": session_of(request).csrf,
        }
    )


async def whoami(request: Request) -> Response:
    actor = await current_actor(request)
    me = (
        None
        if actor is None
        else {
            "id": actor.staff_id,
            "email": actor.email,
            "name": actor.name,
            "site_admin": actor.is_site_admin,
            "roles": {str(k): v.value for k, v in actor.roles.items()},
        }
    )
    return ok({"staff": me, "csrf_token": session_of(request).csrf})


async def sign_out(request: Request) -> Response:
    check_csrf(request)
    session_of(request).sign_out()
    return Response(status_code=204)


# Pilots


@staff_only
async def list_pilots(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilots = await pilot_store.list_pilots(db, actor)
        return ok([pilot_store.pilot_snapshot(p) for p in pilots])


@staff_only
async def create_pilot(request: Request, actor: Actor) -> Response:
    spec = parse(PilotSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        pilot = await pilot_store.create_pilot(db, actor, spec)
        return ok(pilot_store.pilot_snapshot(pilot), 201)


@staff_only
async def get_pilot(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, _id(request, "pilot_id"), Permission.VIEW_PILOT)
        body = pilot_store.pilot_snapshot(pilot)
        body["areas"] = [pilot_store.area_snapshot(a) for a in await pilot_store.list_areas(db, pilot.id)]
        return ok(body)


@staff_only
async def update_pilot(request: Request, actor: Actor) -> Response:
    spec = parse(PilotSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        pilot = await pilot_store.update_pilot(db, actor, _id(request, "pilot_id"), spec)
        return ok(pilot_store.pilot_snapshot(pilot))


# Areas


@staff_only
async def list_areas(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, _id(request, "pilot_id"), Permission.VIEW_PILOT)
        return ok([pilot_store.area_snapshot(a) for a in await pilot_store.list_areas(db, pilot.id)])


@staff_only
async def add_area(request: Request, actor: Actor) -> Response:
    spec = parse(AreaSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        area = await pilot_store.add_area(db, actor, _id(request, "pilot_id"), spec)
        return ok(pilot_store.area_snapshot(area), 201)


@staff_only
async def update_area(request: Request, actor: Actor) -> Response:
    spec = parse(AreaSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        area = await pilot_store.update_area(
            db, actor, _id(request, "pilot_id"), _id(request, "area_id"), spec
        )
        return ok(pilot_store.area_snapshot(area))


@staff_only
async def delete_area(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        await pilot_store.delete_area(db, actor, _id(request, "pilot_id"), _id(request, "area_id"))
    return Response(status_code=204)


@staff_only
async def import_areas(request: Request, actor: Actor) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media not in ("text/csv", "text/plain"):
        raise PollsError(
            "Send the CSV file as the body with Content-Type: text/csv",
            code="unsupported_media_type",
        )
    raw = await request.body()
    if len(raw) > 5_000_000:
        raise PollsError("The file is larger than 5 MB", code="body_too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.one("file", "Save the file as UTF-8 CSV and upload it again") from None
    parsed = parse_area_csv(text)
    async with runtime(request).db.begin() as db:
        areas = await pilot_store.import_areas(db, actor, _id(request, "pilot_id"), parsed)
        return ok({"imported": len(areas), "areas": [pilot_store.area_snapshot(a) for a in areas]}, 201)


# Staff roles


@staff_only
async def list_staff(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, _id(request, "pilot_id"), Permission.VIEW_PILOT)
        return ok([pilot_store.role_snapshot(r) for r in await pilot_store.list_roles(db, pilot.id)])


@staff_only
async def set_staff_role(request: Request, actor: Actor) -> Response:
    body = parse(StaffRoleBody, await read_json(request))
    spec = StaffRoleSpec(email=body.email, role=body.role)
    async with runtime(request).db.begin() as db:
        role, created = await pilot_store.set_role(db, actor, _id(request, "pilot_id"), spec, name=body.name)
        result = pilot_store.role_snapshot(role)
        if created:
            result["invitation_link"] = invite_link(request, role.staff)
        return ok(result, 201 if created else 200)


@staff_only
async def remove_staff_role(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        await pilot_store.remove_role(db, actor, _id(request, "pilot_id"), _id(request, "staff_id"))
    return Response(status_code=204)


# Polls


def _poll_body(poll: Poll) -> dict[str, Any]:
    body = poll_store.poll_snapshot(poll)
    body["allowed_actions"] = [a.value for a in allowed_actions(poll_store.facts(poll))]
    return body


@staff_only
async def list_polls(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, _id(request, "pilot_id"), Permission.VIEW_PILOT)
        return ok([_poll_body(p) for p in await poll_store.list_polls(db, pilot.id)])


@staff_only
async def create_poll(request: Request, actor: Actor) -> Response:
    spec = parse(NewPollSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        poll = await poll_store.create_poll(db, actor, _id(request, "pilot_id"), spec)
        return ok(_poll_body(poll), 201)


@staff_only
async def get_poll(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        poll = await poll_store.get_poll(db, actor, _id(request, "poll_id"), Permission.VIEW_PILOT)
        return ok(_poll_body(poll))


@staff_only
async def update_poll(request: Request, actor: Actor) -> Response:
    spec = parse(PollSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        poll = await poll_store.update_poll(db, actor, _id(request, "poll_id"), spec)
        return ok(_poll_body(poll))


@staff_only
async def add_question(request: Request, actor: Actor) -> Response:
    spec = parse(QuestionSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        question = await poll_store.add_question(db, actor, _id(request, "poll_id"), spec)
        return ok(poll_store.question_snapshot(question), 201)


@staff_only
async def update_question(request: Request, actor: Actor) -> Response:
    spec = parse(QuestionSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        question = await poll_store.update_question(
            db, actor, _id(request, "poll_id"), _id(request, "question_id"), spec
        )
        return ok(poll_store.question_snapshot(question))


@staff_only
async def delete_question(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        await poll_store.delete_question(db, actor, _id(request, "poll_id"), _id(request, "question_id"))
    return Response(status_code=204)


@staff_only
async def reorder_questions(request: Request, actor: Actor) -> Response:
    spec = parse(QuestionOrderSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        poll = await poll_store.reorder_questions(db, actor, _id(request, "poll_id"), spec.question_ids)
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
        poll = await poll_lifecycle.transition(db, actor, _id(request, "poll_id"), action)
        return ok(_poll_body(poll))


# Audit


def _entry(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
    }


@staff_only
async def pilot_audit(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, _id(request, "pilot_id"), Permission.MANAGE_PILOT)
        return ok([_entry(e) for e in await audit.recent(db, pilot_id=pilot.id, limit=500)])


def _id(request: Request, name: str) -> int:
    return int(request.path_params[name])


API: list[ApiRoute] = [
    ApiRoute("GET", "/api/session", whoami, "Who is signed in, and the CSRF token to send", public=True),
    ApiRoute("POST", "/api/session", sign_in, "Sign in with email and password", SignInSpec, public=True),
    ApiRoute("DELETE", "/api/session", sign_out, "Sign out", public=True),
    ApiRoute("GET", "/api/pilots", list_pilots, "Pilots you have a role in"),
    ApiRoute("POST", "/api/pilots", create_pilot, "Create a pilot (site admins)", PilotSpec),
    ApiRoute("GET", "/api/pilots/{pilot_id:id}", get_pilot, "A pilot with its areas"),
    ApiRoute("PUT", "/api/pilots/{pilot_id:id}", update_pilot, "Change a pilot", PilotSpec),
    ApiRoute("GET", "/api/pilots/{pilot_id:id}/areas", list_areas, "A pilot's areas"),
    ApiRoute("POST", "/api/pilots/{pilot_id:id}/areas", add_area, "Add an area", AreaSpec),
    ApiRoute(
        "POST",
        "/api/pilots/{pilot_id:id}/areas/import",
        import_areas,
        "Import areas from CSV (columns name, code, postcodes); all rows or none",
        body_media="text/csv",
    ),
    ApiRoute(
        "PUT",
        "/api/pilots/{pilot_id:id}/areas/{area_id:id}",
        update_area,
        "Change an area",
        AreaSpec,
    ),
    ApiRoute(
        "DELETE",
        "/api/pilots/{pilot_id:id}/areas/{area_id:id}",
        delete_area,
        "Delete an unused area",
    ),
    ApiRoute("GET", "/api/pilots/{pilot_id:id}/staff", list_staff, "Staff and their roles in a pilot"),
    ApiRoute(
        "PUT",
        "/api/pilots/{pilot_id:id}/staff",
        set_staff_role,
        "Give someone a role (creates their account and an invitation link if new)",
        StaffRoleBody,
    ),
    ApiRoute(
        "DELETE",
        "/api/pilots/{pilot_id:id}/staff/{staff_id:id}",
        remove_staff_role,
        "Remove a role",
    ),
    ApiRoute("GET", "/api/pilots/{pilot_id:id}/polls", list_polls, "A pilot's polls"),
    ApiRoute("POST", "/api/pilots/{pilot_id:id}/polls", create_poll, "Draft a poll", NewPollSpec),
    ApiRoute(
        "GET",
        "/api/pilots/{pilot_id:id}/audit",
        pilot_audit,
        "The pilot's audit log, newest first",
    ),
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


def all_operations() -> list[ApiRoute]:
    """Every API operation, for the router and the OpenAPI document alike."""
    from polls.http.codes import API as CODES_API
    from polls.http.juries_api import API as JURIES_API
    from polls.http.jury_reports import API as JURY_REPORTS_API
    from polls.http.results import API as RESULTS_API
    from polls.http.translations import API as TRANSLATIONS_API

    return [*API, *CODES_API, *TRANSLATIONS_API, *JURIES_API, *JURY_REPORTS_API, *RESULTS_API]


def routes() -> list[Route]:
    from polls.http.openapi import openapi_json

    by_path: dict[str, dict[str, ApiRoute]] = {}
    for r in all_operations():
        by_path.setdefault(r.path, {})[r.method] = r
    out = [Route("/api/openapi.json", openapi_json, methods=["GET"])]
    for path, methods in by_path.items():
        out.append(Route(path, _dispatch(methods), methods=list(methods)))
    return out


def _dispatch(methods: dict[str, ApiRoute]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await methods[method].endpoint(request)

    return endpoint
