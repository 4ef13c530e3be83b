"""The jury room's pages: the moderator's console, the juror's page and the public observer page.

All three (the console for signed-in staff who may run the pilot's juries, the juror's page by
their JUROR_ROOM link) render the room server-side and work without JavaScript (commands are
forms posted here); web/static/jury.js follows the socket (polls.http.juries.room_socket) and,
after each change, fetches the room alone (``room_fragment``).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.juries import PUBLIC
from polls.domain.jury_allowed import allowed
from polls.domain.jury_room import MODERATOR, OBSERVER, CommandRefused, Role, RoomActor, RoomState
from polls.domain.jury_views import view
from polls.errors import Forbidden
from polls.http.council.confirm import confirmed, end_session_page
from polls.http.juries.room_access import (
    Participant,
    juror_from_token,
    require_watchable,
    session_and_jury,
)
from polls.http.kit.auth import current_actor
from polls.http.kit.forms import read_form, see_other
from polls.http.kit.guards import jury_session_staff, jury_staff, page
from polls.http.kit.render import render
from polls.live.jury_rooms import Room
from polls.runtime import Runtime, runtime
from polls.store import jury_sessions
from polls.store.models import Jury, JurySession, Pilot

INT_FIELDS = {"item", "seconds", "juror", "poll", "option", "recommendation"}


def command_from_form(form: FormData) -> dict[str, Any]:
    """A command from a page's form: the same fields as the socket's, typed from text."""
    command: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "csrf_token" or not isinstance(value, str):
            continue
        value = value.strip()
        if key in INT_FIELDS:
            command[key] = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else value
            if key == "juror" and value == "":
                command.pop(key)
        elif key == "minutes":
            try:
                command[key] = float(value)
            except ValueError:
                command[key] = value
        elif key == "options":
            command[key] = [line.strip() for line in value.splitlines() if line.strip()]
        elif key in ("url", "witness") and value == "":
            continue
        else:
            command[key] = value
    return command


def _room_context(
    session: JurySession, jury: Jury, who: Participant, state: RoomState, query: str
) -> dict[str, Any]:
    """What room.html and its fragment show; ``query`` says who is asking, as on the socket."""
    now = time.time()
    return {
        "session": session,
        "jury": jury,
        "role": who.role.value,
        "room": view(state, who.role, who.actor.juror_id),
        "allowed": allowed(state, who.actor, now=now),
        "server_now": now,
        "socket_path": f"/live/jury-sessions/{session.id}{query}",
        "fragment_path": f"/jury-sessions/{session.id}/fragment{query}",
    }


async def _room_page(
    request: Request,
    rt: Runtime,
    session: JurySession,
    jury: Jury,
    who: Participant,
    *,
    socket_query: str = "",
    error: CommandRefused | None = None,
) -> Response:
    state = await rt.jury_rooms.state(session.id)
    context = _room_context(session, jury, who, state, socket_query) | {"command_error": error}
    return render(request, "jury_room/room.html", context, status_code=422 if error else 200)


@dataclass(eq=False)
class _Watched:
    """The public's fragment of a room at one event id; the lock makes a crowd asking at once
    wait for one render instead of each making its own."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = -1
    body: bytes = b""


# Weakly keyed by the room this instance follows, so it goes when the room's last subscriber does.
_WATCHED: weakref.WeakKeyDictionary[Room, _Watched] = weakref.WeakKeyDictionary()


def _fragment_response(body: bytes) -> Response:
    # The server's clock per response (not in the cached body), for jury.js to count down by.
    headers = {"Cache-Control": "no-store", "X-Server-Now": f"{time.time():.3f}"}
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


async def room_fragment(request: Request) -> Response:
    """The room alone (``#jury-room``) for jury.js to swap in after each change, rendered from
    this instance's state and never writing. Who asks is read as on the socket: ``token`` a
    juror, ``as=observer`` or no moderator session the public, else the moderator. With
    thousands watching, each change costs one render per instance for the public."""
    rt = runtime(request)
    session_id = int(request.path_params["session_id"])
    token = request.query_params.get("token")
    as_observer = request.query_params.get("as") == "observer"
    actor = None if token or as_observer else await current_actor(request)
    room = rt.jury_rooms.rooms.get(session_id)
    if token or actor is not None or room is None:
        return _fragment_response(await _render_fragment(request, rt, session_id, token, actor))
    watched = _WATCHED.setdefault(room, _Watched())
    async with watched.lock:
        if watched.seq != room.state.seq:
            body = await _render_fragment(request, rt, session_id, None, None, cache=watched)
            return _fragment_response(body)
        return _fragment_response(watched.body)


async def _render_fragment(
    request: Request,
    rt: Runtime,
    session_id: int,
    token: str | None,
    actor: Actor | None,
    *,
    cache: _Watched | None = None,
) -> bytes:
    session, jury = await session_and_jury(rt, session_id)
    if token:
        juror = await juror_from_token(rt, jury.id, token)
        if juror is None:
            raise Forbidden("This room link is not valid. Ask the jury's organisers for a new one.")
        who, query = Participant(RoomActor.juror(juror[0])), f"?token={token}"
    elif actor is not None and actor.can(Permission.RUN_JURY, jury.pilot_id):
        who, query = Participant(MODERATOR, actor.email), ""
    else:
        await require_watchable(request, jury)
        who, query = Participant(OBSERVER), "?as=observer"
    state = await rt.jury_rooms.state(session_id)
    context = _room_context(session, jury, who, state, query)
    body = bytes(render(request, "jury_room/_room.html", context).body)
    if cache is not None and who.role is Role.OBSERVER and jury.status in PUBLIC:
        cache.seq, cache.body = state.seq, body  # only what anyone may see is shared
    return body


async def _run_form_command(
    request: Request, rt: Runtime, session: JurySession, who: Participant
) -> Response | None:
    """Carry out a command posted by a room page's form; ending the session needs its
    confirmation page's ``confirm=yes`` first (the response sending the moderator there)."""
    form = await read_form(request) if who.role is Role.MODERATOR else await request.form()
    command = command_from_form(form)
    if who.role is Role.MODERATOR and command.get("type") == "end_session" and not confirmed(form):
        return see_other(f"/council/jury-sessions/{session.id}/end")
    command.pop("confirm", None)
    await rt.jury_rooms.command(session.id, who.actor, command, audit_actor=who.audit_actor)
    return None


@jury_session_staff(Permission.RUN_JURY)
async def console(request: Request, actor: Actor, session: JurySession, jury: Jury) -> Response:
    rt = runtime(request)
    who = Participant(MODERATOR, actor.email)
    if request.method == "POST":
        try:
            to_confirm = await _run_form_command(request, rt, session, who)
        except CommandRefused as exc:
            return await _room_page(request, rt, session, jury, who, error=exc)
        return to_confirm or see_other(f"/council/jury-sessions/{session.id}")
    return await _room_page(request, rt, session, jury, who)


@jury_staff(Permission.VIEW_PILOT)
async def sessions_page(request: Request, actor: Actor, jury: Jury, pilot: Pilot) -> Response:
    """A jury's sessions; a moderator starts a new one here."""
    rt = runtime(request)
    jury_id = jury.id
    async with rt.db() as db:
        sessions = await jury_sessions.sessions_of(db, jury_id)
    errors: dict[str, str] = {}
    values = {"title": ""}
    if request.method == "POST":
        actor.require(Permission.RUN_JURY, jury.pilot_id)
        form = await read_form(request)
        title = str(form.get("title", "")).strip()
        values["title"] = title
        if not title or len(title) > 200:
            errors["title"] = "Enter a title of up to 200 characters, such as \u201cDay 1: evidence\u201d"
        else:
            async with rt.db.begin() as db:
                created = await jury_sessions.create_session(db, actor, jury_id, title)
            return see_other(f"/council/jury-sessions/{created.id}")
    context = {"jury": jury, "sessions": sessions, "errors": errors, "values": values}
    return render(request, "jury_room/sessions.html", context, status_code=422 if errors else 200)


async def juror_page(request: Request) -> Response:
    """The juror's own page, reached by their room link: the jury's latest session."""
    rt = runtime(request)
    jury_id, token = int(request.path_params["jury_id"]), str(request.path_params["token"])
    juror = await juror_from_token(rt, jury_id, token)
    if juror is None:
        raise Forbidden("This room link is not valid. Ask the jury's organisers for a new one.")
    async with rt.db() as db:
        sessions = await jury_sessions.sessions_of(db, jury_id)
    if not sessions:
        return render(request, "jury_room/no_session.html", {"jury_id": jury_id})
    session, jury = await session_and_jury(rt, sessions[-1].id)
    who = Participant(RoomActor.juror(juror[0]))
    await rt.jury_rooms.add_juror(session.id, juror[0], juror[1])
    if request.method == "POST":
        try:
            await _run_form_command(request, rt, session, who)
        except CommandRefused as exc:
            return await _room_page(
                request, rt, session, jury, who, socket_query=f"?token={token}", error=exc
            )
        return see_other(str(request.url.path))
    return await _room_page(request, rt, session, jury, who, socket_query=f"?token={token}")


async def observer_page(request: Request) -> Response:
    rt = runtime(request)
    session, jury = await session_and_jury(rt, int(request.path_params["session_id"]))
    await require_watchable(request, jury)
    return await _room_page(request, rt, session, jury, Participant(OBSERVER), socket_query="?as=observer")


routes: list[BaseRoute] = [
    Route("/council/juries/{jury_id:id}/sessions", page(sessions_page), methods=["GET", "POST"]),
    Route("/council/jury-sessions/{session_id:id}", page(console), methods=["GET", "POST"]),
    Route("/council/jury-sessions/{session_id:id}/end", page(end_session_page), methods=["GET"]),
    Route("/juries/{jury_id:id}/room/{token}", juror_page, methods=["GET", "POST"]),
    Route("/jury-sessions/{session_id:id}", observer_page, methods=["GET"]),
    Route("/jury-sessions/{session_id:id}/fragment", room_fragment, methods=["GET"]),
]
