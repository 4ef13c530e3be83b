"""Who is in a jury room and what they may see: a juror by their room link, a moderator by their
staff session, the public otherwise.

The observer page, the report and the observer socket are public once the jury's lottery is
(polls.domain.juries.PUBLIC); before that they answer as if there were no such session, except
to staff who may see the pilot."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.websockets import WebSocket

from polls.domain.access import Actor, Permission
from polls.domain.juries import PUBLIC
from polls.domain.jury_room import Role, RoomActor
from polls.errors import NotFound
from polls.http.kit.auth import current_actor
from polls.runtime import Runtime
from polls.store import jury_sessions
from polls.store.jurors import room_juror
from polls.store.models import Jury, JurySession
from polls.store.staff import signed_in_actor
from polls.tokens import JUROR_ROOM, STAFF_SESSION, TokenInvalid


@dataclass(frozen=True)
class Participant:
    actor: RoomActor
    audit_actor: str | None = None  # the moderator's email: their commands are audited
    name: str = ""  # a juror's display name

    @property
    def role(self) -> Role:
        return self.actor.role


async def session_and_jury(rt: Runtime, session_id: int) -> tuple[JurySession, Jury]:
    async with rt.db() as db:
        found = await jury_sessions.get_session(db, session_id)
        return found, found.jury


async def staff_from_cookie(rt: Runtime, raw: str | None) -> Actor | None:
    if not raw:
        return None
    try:
        data = rt.tokens.read(STAFF_SESSION, raw)
        staff_id, fingerprint, key = int(data["s"]), str(data.get("f", "")), str(data.get("k", ""))
    except (TokenInvalid, KeyError, TypeError, ValueError):
        return None
    async with rt.db() as db:
        return await signed_in_actor(db, staff_id, fingerprint, key)


def same_origin(websocket: WebSocket) -> bool:
    """A browser on another site must not drive the moderator's socket with their cookie."""
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


async def juror_from_token(rt: Runtime, jury_id: int, token: str) -> tuple[int, str] | None:
    try:
        data = rt.tokens.read(JUROR_ROOM, token)
        juror_id, nonce = int(data["j"]), str(data["n"])
    except (TokenInvalid, KeyError, TypeError, ValueError):
        return None
    async with rt.db() as db:
        juror = await room_juror(db, jury_id, juror_id, nonce)
        return None if juror is None else (juror.id, jury_sessions.juror_name(juror))


def watchable(jury: Jury, actor: Actor | None) -> bool:
    """Anyone may watch a jury's sessions once its lottery is public (as on the jury's public
    page); before that, only staff who may see the pilot."""
    return jury.status in PUBLIC or (actor is not None and actor.can(Permission.VIEW_PILOT, jury.pilot_id))


async def require_watchable(request: Request, jury: Jury) -> None:
    if jury.status not in PUBLIC and not watchable(jury, await current_actor(request)):
        raise NotFound("There is no such jury session")
