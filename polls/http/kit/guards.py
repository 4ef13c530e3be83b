"""Guards at the edge: who may reach an endpoint, checked before it runs.

``page`` (officer pages) and ``staff_only`` (API calls) want a signed-in staff member and the
session's CSRF token on anything that changes something; the endpoint is then called with the
``Actor``. The pilot guards below then load what the path names and check the actor's role in
its pilot, so endpoints never repeat it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor, Permission
from polls.errors import NotFound
from polls.http.kit.auth import check_csrf, require_actor
from polls.http.kit.forms import path_int, read_form
from polls.runtime import runtime
from polls.store import juries as jury_store
from polls.store import jury_sessions
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.models import Jury, JurySession, Pilot, Poll

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


# The pilot guards, like Helios's @election_admin: they load what the path names (a pilot, a poll,
# a jury, a jury session) and check the actor's role in its pilot before the endpoint runs, with
# the store's errors (404 before 403: ids leak nothing). They go inside ``page`` or ``staff_only``:
#
#     @pilot_staff(Permission.MANAGE_PILOT)
#     async def audit_page(request: Request, actor: Actor, pilot: Pilot) -> Response: ...
#
#     Route("/council/pilots/{pilot_id:id}/audit", page(audit_page))

PilotEndpoint = Callable[[Request, Actor, Pilot], Awaitable[Response]]
PollEndpoint = Callable[[Request, Actor, Poll, Pilot], Awaitable[Response]]
JuryEndpoint = Callable[[Request, Actor, Jury, Pilot], Awaitable[Response]]
JurySessionEndpoint = Callable[[Request, Actor, JurySession, Jury], Awaitable[Response]]


async def staff_pilot(request: Request, actor: Actor, permission: Permission) -> Pilot:
    """The pilot named by the path's ``pilot_id``, once ``actor`` holds ``permission`` in it."""
    async with runtime(request).db() as db:
        return await pilot_store.get_pilot(db, actor, path_int(request, "pilot_id"), permission)


async def staff_poll(request: Request, actor: Actor, permission: Permission) -> tuple[Poll, Pilot]:
    """The poll named by the path's ``poll_id`` and its pilot, once ``actor`` holds ``permission``."""
    async with runtime(request).db() as db:
        poll = await poll_store.get_poll(db, actor, path_int(request, "poll_id"), permission)
        return poll, await pilot_store.get_pilot(db, actor, poll.pilot_id, permission)


async def staff_jury(request: Request, actor: Actor, permission: Permission) -> tuple[Jury, Pilot]:
    """The jury named by the path's ``jury_id`` and its pilot, once ``actor`` holds ``permission``."""
    async with runtime(request).db() as db:
        jury = await jury_store.get_jury(db, actor, path_int(request, "jury_id"), permission)
        return jury, await pilot_store.get_pilot(db, actor, jury.pilot_id, permission)


def pilot_staff(permission: Permission) -> Callable[[PilotEndpoint], StaffEndpoint]:
    def guard(endpoint: PilotEndpoint) -> StaffEndpoint:
        @wraps(endpoint)
        async def guarded(request: Request, actor: Actor) -> Response:
            return await endpoint(request, actor, await staff_pilot(request, actor, permission))

        return guarded

    return guard


def poll_staff(permission: Permission) -> Callable[[PollEndpoint], StaffEndpoint]:
    def guard(endpoint: PollEndpoint) -> StaffEndpoint:
        @wraps(endpoint)
        async def guarded(request: Request, actor: Actor) -> Response:
            return await endpoint(request, actor, *await staff_poll(request, actor, permission))

        return guarded

    return guard


def jury_staff(permission: Permission) -> Callable[[JuryEndpoint], StaffEndpoint]:
    def guard(endpoint: JuryEndpoint) -> StaffEndpoint:
        @wraps(endpoint)
        async def guarded(request: Request, actor: Actor) -> Response:
            return await endpoint(request, actor, *await staff_jury(request, actor, permission))

        return guarded

    return guard


def jury_session_staff(permission: Permission) -> Callable[[JurySessionEndpoint], StaffEndpoint]:
    """The jury session named by ``session_id`` and its jury: staff who cannot see the pilot are
    told there is no such session; those who can see it but lack ``permission`` are refused."""

    def guard(endpoint: JurySessionEndpoint) -> StaffEndpoint:
        @wraps(endpoint)
        async def guarded(request: Request, actor: Actor) -> Response:
            async with runtime(request).db() as db:
                session = await jury_sessions.get_session(db, path_int(request, "session_id"))
            if not actor.can(Permission.VIEW_PILOT, session.jury.pilot_id):
                raise NotFound("There is no such jury session")
            actor.require(permission, session.jury.pilot_id)
            return await endpoint(request, actor, session, session.jury)

        return guarded

    return guard
