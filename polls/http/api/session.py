"""Signing in and out through the API, and who is signed in (with the CSRF token to send)."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor
from polls.domain.validation import StrictSpec, parse
from polls.http.api.kit import ApiRoute, ok, read_json
from polls.http.council.sign_in import attempt_sign_in
from polls.http.kit.auth import check_csrf, current_actor, session_of, sign_out
from polls.http.kit.forms import path_int
from polls.http.kit.guards import staff_only
from polls.runtime import runtime
from polls.store import sign_ins


class SignInSpec(StrictSpec):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1000)


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


async def sign_out_here(request: Request) -> Response:
    check_csrf(request)
    await sign_out(request)
    return Response(status_code=204)


@staff_only
async def sign_out_everywhere(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        await sign_ins.sign_out_everywhere(db, actor, path_int(request, "staff_id"))
    return Response(status_code=204)


OPERATIONS: list[ApiRoute] = [
    ApiRoute("GET", "/api/session", whoami, "Who is signed in, and the CSRF token to send", public=True),
    ApiRoute(
        "POST",
        "/api/session",
        sign_in,
        "Sign in with email and password",
        SignInSpec,
        public=True,
        throttled=True,
    ),
    ApiRoute("DELETE", "/api/session", sign_out_here, "Sign out", public=True),
    ApiRoute(
        "DELETE",
        "/api/staff/{staff_id:id}/sessions",
        sign_out_everywhere,
        "Sign someone out everywhere (themselves, or staff of a pilot you administer)",
    ),
]
