"""Guards at the edge: who may reach an endpoint, checked before it runs.

``page`` (officer pages) and ``staff_only`` (API calls) want a signed-in staff member and the
session's CSRF token on anything that changes something; the endpoint is then called with the
``Actor``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor
from polls.http.kit.auth import check_csrf, require_actor
from polls.http.kit.forms import read_form

Endpoint = Callable[[Request], Awaitable[Response]]
StaffEndpoint = Callable[[Request, Actor], Awaitable[Response]]


def page(handler: StaffEndpoint) -> Endpoint:
    """Guard for officer pages: signed in, and every POST carries the session's CSRF token."""

    async def endpoint(request: Request) -> Response:
        actor = await require_actor(request)
        if request.method == "POST":
            await read_form(request)
        return await handler(request, actor)

    return endpoint


def staff_only(endpoint: StaffEndpoint) -> Endpoint:
    """Guard: a signed-in staff member; for API calls that change things, a valid CSRF header."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        actor = await require_actor(request)
        if request.url.path.startswith("/api/"):
            check_csrf(request)
        return await endpoint(request, actor)

    return guarded
