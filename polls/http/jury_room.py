"""Jury rooms over the web: the websocket (polls.domain.jury_protocol) and the three pages.

The moderator's console (signed-in staff who may run the pilot's juries), the juror's page
(their JUROR_ROOM link) and the public observer page all render the room server-side and work
without JavaScript (commands are forms posted here); polls/web/static/jury.js follows the socket and,
after each change, fetches the room alone (``room_fragment``). The observer page, the report and
the observer socket are public once the jury's lottery is (polls.domain.juries.PUBLIC); before
that they answer as if there were no such session, except to staff who may see the pilot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from polls.domain import jury_protocol as protocol
from polls.domain.access import Actor, Permission
from polls.domain.juries import PUBLIC, profile_json
from polls.domain.jury_allowed import allowed
from polls.domain.jury_report import report, report_csv
from polls.domain.jury_room import MODERATOR, OBSERVER, CommandRefused, Role, RoomActor, RoomState
from polls.domain.jury_views import view
from polls.errors import Forbidden, NotFound
from polls.http.auth import COOKIE, current_actor
from polls.http.council import page, read_form, see_other
from polls.http.pages import render
from polls.live.jury_rooms import Close, Room
from polls.runtime import Runtime, runtime
from polls.store import jury_sessions
from polls.store.juries import seated_profile
from polls.store.jurors import room_juror
from polls.store.models import Jury, JurySession, Staff
from polls.store.staff import load_actor
from polls.tokens import JUROR_ROOM, STAFF_SESSION, TokenInvalid, password_fingerprint

log = logging.getLogger("polls.jury_room")

RATE = 5.0  # commands per second a connection may keep up
BURST = 20  # and send at once


class Bucket:
    """A token bucket per connection: floods are refused, message by message."""

    def __init__(self, rate: float = RATE, burst: int = BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass(frozen=True)
class Participant:
    actor: RoomActor
    audit_actor: str | None = None  # the moderator's email: their commands are audited
    name: str = ""  # a juror's display name

    @property
    def role(self) -> Role:
        return self.actor.role


async def _session_and_jury(rt: Runtime, session_id: int) -> tuple[JurySession, Jury]:
    async with rt.db() as db:
        found = await jury_sessions.get_session(db, session_id)
        return found, found.jury


async def _staff_from_cookie(rt: Runtime, raw: str | None) -> Actor | None:
    if not raw:
        return None
    try:
        data = rt.tokens.read(STAFF_SESSION, raw)
        staff_id, fingerprint = int(data["s"]), str(data.get("f", ""))
    except (TokenInvalid, KeyError, TypeError, ValueError):
        return None
    async with rt.db() as db:
        staff = await db.get(Staff, staff_id)
        if staff is None or password_fingerprint(staff.password_hash) != fingerprint:
            return None
        return await load_actor(db, staff.id)


def _same_origin(websocket: WebSocket) -> bool:
    """A browser on another site must not drive the moderator's socket with their cookie."""
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


async def _juror_from_token(rt: Runtime, jury_id: int, token: str) -> tuple[int, str] | None:
    try:
        data = rt.tokens.read(JUROR_ROOM, token)
        juror_id, nonce = int(data["j"]), str(data["n"])
    except (TokenInvalid, KeyError, TypeError, ValueError):
        return None
    async with rt.db() as db:
        juror = await room_juror(db, jury_id, juror_id, nonce)
        return None if juror is None else (juror.id, jury_sessions.juror_name(juror))


async def _participant(websocket: WebSocket, rt: Runtime, jury: Jury) -> Participant | None:
    """Juror by token, moderator by session cookie, observer otherwise; None for a bad token."""
    token = websocket.query_params.get("token")
    if token:
        juror = await _juror_from_token(rt, jury.id, token)
        if juror is None:
            return None
        return Participant(RoomActor.juror(juror[0]), name=juror[1])
    if websocket.query_params.get("as") != "observer" and _same_origin(websocket):
        actor = await _staff_from_cookie(rt, websocket.cookies.get(COOKIE))
        if actor is not None and actor.can(Permission.RUN_JURY, jury.pilot_id):
            return Participant(MODERATOR, actor.email)
    return Participant(OBSERVER)


def _after(websocket: WebSocket) -> int | None:
    raw = websocket.query_params.get("after", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _watchable(jury: Jury, actor: Actor | None) -> bool:
    """Anyone may watch a jury's sessions once its lottery is public (as on the jury's public
    page); before that, only staff who may see the pilot."""
    return jury.status in PUBLIC or (actor is not None and actor.can(Permission.VIEW_PILOT, jury.pilot_id))


async def _require_watchable(request: Request, jury: Jury) -> None:
    if jury.status not in PUBLIC and not _watchable(jury, await current_actor(request)):
        raise NotFound("There is no such jury session")


async def room_socket(websocket: WebSocket) -> None:
    rt = runtime(websocket)
    session_id = int(websocket.path_params["session_id"])
    await websocket.accept()  # accepted first, so a browser sees the close code and stops retrying
    try:
        _, jury = await _session_and_jury(rt, session_id)
    except NotFound:
        await websocket.close(code=4404, reason="no such jury session")
        return
    who = await _participant(websocket, rt, jury)
    if who is not None and who.role is Role.OBSERVER and jury.status not in PUBLIC:
        staff = (
            await _staff_from_cookie(rt, websocket.cookies.get(COOKIE)) if _same_origin(websocket) else None
        )
        if not _watchable(jury, staff):
            await websocket.close(code=4404, reason="no such jury session")
            return
    if who is None:
        await websocket.send_text(protocol.error("unauthorised", "This room link is no longer valid"))
        await websocket.close(code=4401)
        return
    juror_id = who.actor.juror_id
    if juror_id is not None:
        await rt.jury_rooms.add_juror(session_id, juror_id, who.name)
    async with rt.jury_rooms.join(session_id, who.role, juror_id, after=_after(websocket)) as joined:
        await websocket.send_text(protocol.welcome(session_id, who.role.value, juror_id))
        for text in joined.missed:
            await websocket.send_text(text)
        await websocket.send_text(joined.snapshot)
        queue = joined.subscriber.queue
        sender = asyncio.create_task(_send(websocket, queue))
        receiver = asyncio.create_task(_receive(websocket, rt, session_id, who, queue))
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, receiver):
                task.cancel()
            for task in (sender, receiver):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task


async def _send(websocket: WebSocket, queue: asyncio.Queue[str | Close]) -> None:
    """The one writer of the socket: room events, acks and errors, in the order queued."""
    while True:
        text = await queue.get()
        if isinstance(text, Close):  # too far behind (the client resumes), or off the panel
            await websocket.close(code=text.code, reason=text.reason)
            return
        await websocket.send_text(text)


async def _receive(
    websocket: WebSocket, rt: Runtime, session_id: int, who: Participant, queue: asyncio.Queue[str | Close]
) -> None:
    bucket = Bucket()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        ref: protocol.Ref = None
        try:
            if not bucket.take():
                raise CommandRefused("too_many", "Too many messages: wait a moment")
            command, ref = protocol.parse(message.get("text"))
            if command["type"] == "ping":
                queue.put_nowait(protocol.pong(ref))
                continue
            stored = await rt.jury_rooms.command(session_id, who.actor, command, audit_actor=who.audit_actor)
            queue.put_nowait(protocol.ack(ref, [e.seq for e in stored]))
        except CommandRefused as exc:
            queue.put_nowait(protocol.error(exc.code, exc.message, ref))
        except (RedisError, SQLAlchemyError, OSError) as exc:
            log.warning("jury room command failed: %s", type(exc).__name__)
            queue.put_nowait(protocol.error("unavailable", "Nothing was saved: try again in a moment", ref))
        except Exception:  # a bug must not cost the client its socket: it is told, and logged here
            log.exception("jury room command failed unexpectedly")
            queue.put_nowait(
                protocol.error("unavailable", "Something went wrong: check the room, then try again", ref)
            )


# --- pages -----------------------------------------------------------------------------------

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
    session, jury = await _session_and_jury(rt, session_id)
    if token:
        juror = await _juror_from_token(rt, jury.id, token)
        if juror is None:
            raise Forbidden("This room link is not valid. Ask the jury's organisers for a new one.")
        who, query = Participant(RoomActor.juror(juror[0])), f"?token={token}"
    elif actor is not None and actor.can(Permission.RUN_JURY, jury.pilot_id):
        who, query = Participant(MODERATOR, actor.email), ""
    else:
        await _require_watchable(request, jury)
        who, query = Participant(OBSERVER), "?as=observer"
    state = await rt.jury_rooms.state(session_id)
    context = _room_context(session, jury, who, state, query)
    body = bytes(render(request, "jury_room/_room.html", context).body)
    if cache is not None and who.role is Role.OBSERVER and jury.status in PUBLIC:
        cache.seq, cache.body = state.seq, body  # only what anyone may see is shared
    return body


async def _run_form_command(request: Request, rt: Runtime, session: JurySession, who: Participant) -> None:
    form = await read_form(request) if who.role is Role.MODERATOR else await request.form()
    await rt.jury_rooms.command(session.id, who.actor, command_from_form(form), audit_actor=who.audit_actor)


async def _moderated(request: Request, actor: Actor) -> tuple[Runtime, JurySession, Jury]:
    rt = runtime(request)
    session, jury = await _session_and_jury(rt, int(request.path_params["session_id"]))
    if not actor.can(Permission.VIEW_PILOT, jury.pilot_id):
        raise NotFound("There is no such jury session")
    actor.require(Permission.RUN_JURY, jury.pilot_id)
    return rt, session, jury


async def console(request: Request, actor: Actor) -> Response:
    rt, session, jury = await _moderated(request, actor)
    who = Participant(MODERATOR, actor.email)
    if request.method == "POST":
        try:
            await _run_form_command(request, rt, session, who)
        except CommandRefused as exc:
            return await _room_page(request, rt, session, jury, who, error=exc)
        return see_other(f"/council/jury-sessions/{session.id}")
    return await _room_page(request, rt, session, jury, who)


async def sessions_page(request: Request, actor: Actor) -> Response:
    """A jury's sessions; a moderator starts a new one here."""
    rt = runtime(request)
    jury_id = int(request.path_params["jury_id"])
    async with rt.db() as db:
        jury = await db.get(Jury, jury_id)
        if jury is None or not actor.can(Permission.VIEW_PILOT, jury.pilot_id):
            raise NotFound("There is no such jury")
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
    juror = await _juror_from_token(rt, jury_id, token)
    if juror is None:
        raise Forbidden("This room link is not valid. Ask the jury's organisers for a new one.")
    async with rt.db() as db:
        sessions = await jury_sessions.sessions_of(db, jury_id)
    if not sessions:
        return render(request, "jury_room/no_session.html", {"jury_id": jury_id})
    session, jury = await _session_and_jury(rt, sessions[-1].id)
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
    session, jury = await _session_and_jury(rt, int(request.path_params["session_id"]))
    await _require_watchable(request, jury)
    return await _room_page(request, rt, session, jury, Participant(OBSERVER), socket_query="?as=observer")


async def _report(request: Request) -> tuple[JurySession, dict[str, Any]]:
    rt = runtime(request)
    session_id = int(request.path_params["session_id"])
    async with rt.db() as db:
        session = await jury_sessions.get_session(db, session_id)
        await _require_watchable(request, session.jury)
        profile = profile_json(await seated_profile(db, session.jury))
    state = await rt.jury_rooms.state(session_id)
    data = report(state, jury_title=session.jury.title, session_title=session.title, profile=profile)
    return session, data


async def report_page(request: Request) -> Response:
    session, data = await _report(request)
    return render(request, "jury_room/report.html", {"session": session, "report": data})


async def report_json(request: Request) -> Response:
    session, data = await _report(request)
    disposition = f'attachment; filename="jury-session-{session.id}-report.json"'
    return JSONResponse(data, headers={"Content-Disposition": disposition})


async def report_csv_file(request: Request) -> Response:
    session, data = await _report(request)
    disposition = f'attachment; filename="jury-session-{session.id}-report.csv"'
    return Response(
        report_csv(data), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


routes: list[BaseRoute] = [
    Route("/jury-sessions/{session_id:id}/report", report_page, methods=["GET"]),
    Route("/jury-sessions/{session_id:id}/report.json", report_json, methods=["GET"]),
    Route("/jury-sessions/{session_id:id}/report.csv", report_csv_file, methods=["GET"]),
    Route("/council/juries/{jury_id:id}/sessions", page(sessions_page), methods=["GET", "POST"]),
    Route("/council/jury-sessions/{session_id:id}", page(console), methods=["GET", "POST"]),
    Route("/juries/{jury_id:id}/room/{token}", juror_page, methods=["GET", "POST"]),
    Route("/jury-sessions/{session_id:id}", observer_page, methods=["GET"]),
    Route("/jury-sessions/{session_id:id}/fragment", room_fragment, methods=["GET"]),
    WebSocketRoute("/live/jury-sessions/{session_id:id}", room_socket),
]
