"""The jury room's websocket (polls.domain.jury_protocol): jurors, the moderator and observers follow
the room, and jurors and the moderator send commands, one connection each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from redis.exceptions import RedisError
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from polls.domain import jury_protocol as protocol
from polls.domain.access import Permission
from polls.domain.juries import PUBLIC
from polls.domain.jury_room import MODERATOR, OBSERVER, CommandRefused, Role, RoomActor
from polls.errors import NotFound
from polls.http.juries.room_access import (
    Participant,
    juror_from_token,
    same_origin,
    session_and_jury,
    staff_from_cookie,
    watchable,
)
from polls.http.kit.auth import COOKIE
from polls.http.kit.language import page_language
from polls.i18n import N_, catalogue_languages, translations
from polls.live.jury_rooms import Close
from polls.runtime import Runtime, runtime
from polls.store.db import DatabaseError
from polls.store.models import Jury

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


async def _participant(websocket: WebSocket, rt: Runtime, jury: Jury) -> Participant | None:
    """Juror by token, moderator by session cookie, observer otherwise; None for a bad token."""
    token = websocket.query_params.get("token")
    if token:
        juror = await juror_from_token(rt, jury.id, token)
        if juror is None:
            return None
        return Participant(RoomActor.juror(juror[0]), name=juror[1])
    if websocket.query_params.get("as") != "observer" and same_origin(websocket):
        actor = await staff_from_cookie(rt, websocket.cookies.get(COOKIE))
        if actor is not None and actor.can(Permission.RUN_JURY, jury.pilot_id):
            return Participant(MODERATOR, actor.email)
    return Participant(OBSERVER)


def _after(websocket: WebSocket) -> int | None:
    raw = websocket.query_params.get("after", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


async def room_socket(websocket: WebSocket) -> None:
    rt = runtime(websocket)
    session_id = int(websocket.path_params["session_id"])
    await websocket.accept()  # accepted first, so a browser sees the close code and stops retrying
    try:
        _, jury = await session_and_jury(rt, session_id)
    except NotFound:
        await websocket.close(code=4404, reason="no such jury session")
        return
    who = await _participant(websocket, rt, jury)
    if who is not None and who.role is Role.OBSERVER and jury.status not in PUBLIC:
        staff = await staff_from_cookie(rt, websocket.cookies.get(COOKIE)) if same_origin(websocket) else None
        if not watchable(jury, staff):
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
    words = translations(page_language(websocket, catalogue_languages()))  # the juror's page language
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        ref: protocol.Ref = None
        try:
            if not bucket.take():
                raise CommandRefused("too_many", N_("Too many messages: wait a moment"))
            command, ref = protocol.parse(message.get("text"))
            if command["type"] == "ping":
                queue.put_nowait(protocol.pong(ref))
                continue
            stored = await rt.jury_rooms.command(session_id, who.actor, command, audit_actor=who.audit_actor)
            queue.put_nowait(protocol.ack(ref, [e.seq for e in stored]))
        except CommandRefused as exc:
            queue.put_nowait(protocol.error(exc.code, words.gettext(exc.message), ref))
        except (RedisError, DatabaseError, OSError) as exc:
            log.warning("jury room command failed: %s", type(exc).__name__)
            unsaved = words.gettext(N_("Nothing was saved: try again in a moment"))
            queue.put_nowait(protocol.error("unavailable", unsaved, ref))
        except Exception:  # a bug must not cost the client its socket: it is told, and logged here
            log.exception("jury room command failed unexpectedly")
            queue.put_nowait(
                protocol.error("unavailable", "Something went wrong: check the room, then try again", ref)
            )


routes: list[BaseRoute] = [
    WebSocketRoute("/live/jury-sessions/{session_id:id}", room_socket),
]
