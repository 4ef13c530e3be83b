"""The jury room's websocket message protocol, version 2: parsing client messages, shaping replies.

Every message is one JSON object in a text frame, with ``"v": 2`` and a ``"type"`` (clients of
version 1 may still send ``"v": 1``: every version 1 command means the same in version 2).
Version 2 made recommendation votes secret unless opened as named votes: ``open_vote`` takes
``"ballot": "secret"|"named"``, and a secret vote logs ``juror_voted`` (who, never how) and its
tally in ``vote_closed``; see docs/jury-room-protocol.md.

Connecting: ``/live/jury-sessions/{id}`` with optional query parameters ``token`` (a juror's
room link token, ``jr_...``), ``after`` (the last event id the client saw, to resume) and
``as=observer`` (a signed-in moderator watching as the public). The role is juror (valid
token), moderator (signed-in staff with the run-jury permission for the jury's pilot, same
origin) or observer (anyone else).

Server to client:

- ``{"v":2,"type":"welcome","session":id,"role":"moderator"|"juror"|"observer","juror":id|null}``
- then, when ``after`` was given, every event after it, in order:
  ``{"v":2,"type":"event","id":seq,"event":{...}}``
- ``{"v":2,"type":"snapshot","id":seq,"state":{...}}``: the room as this audience sees it
  (polls.domain.jury_views.view) at event ``seq``;
- live, for each new event: ``{"v":2,"type":"event","id":seq,"event":{...},"state":{...}}``
  (``state`` rides on the last event of a batch). Event ids grow by one without gaps.
- ``{"v":2,"type":"ack","ref":ref,"ids":[seq, ...]}`` when a command was accepted;
- ``{"v":2,"type":"error","code":code,"message":text,"ref":ref}`` when it was not: nothing
  changed and the connection stays open.

Events are the commands' own plus ``session_created``, ``juror_added`` (a juror who accepted
later arrives) and ``juror_removed`` (an officer withdrew the juror). Close codes: 4401 when a
juror's link is not valid or, after ``juror_removed``, no longer is (do not reconnect); 4404 when
there is no such session (or it is not public yet); 4008 when the client fell too far behind
(reconnect with ``after``).

Client to server: a command, ``{"v":2,"type":<command>,"ref":<optional string or number
echoed back>, ...fields}``, one of polls.domain.jury_commands.COMMANDS, for example
``{"v":2,"type":"raise_hand"}``, ``{"v":2,"type":"vote","recommendation":12,"choice":"yes"}``
or ``{"v":2,"type":"ping"}`` (answered with ``pong``).

Error codes: ``malformed`` (not JSON, not an object, a binary frame, bad fields, text that is
not valid Unicode or has a NUL),
``unsupported_version``, ``unknown_type``, ``too_large`` (over 16 KB), ``too_many`` (over the
connection's rate), ``unauthorised`` (the role may not send it), ``not_allowed`` (not now,
e.g. a closed poll), ``not_found`` (no such item, poll, recommendation or juror),
``unavailable`` (the database or Redis is down, or the server failed unexpectedly; nothing was
saved, try again).
"""

from __future__ import annotations

import json
import re
from typing import Any

from polls.domain.jury_room import CommandRefused

VERSION = 2
ACCEPTED_VERSIONS = (1, 2)  # a version 1 client's commands mean the same in version 2
MAX_MESSAGE = 16 * 1024  # characters in one client message
ERROR_CODES = (
    "malformed",
    "unsupported_version",
    "unknown_type",
    "too_large",
    "too_many",
    "unauthorised",
    "not_allowed",
    "not_found",
    "unavailable",
)
Ref = str | int | None


def parse(raw: str | bytes | None) -> tuple[dict[str, Any], Ref]:
    """A client message as (command, ref), or CommandRefused naming what is wrong with it."""
    if not isinstance(raw, str):
        raise CommandRefused("malformed", "Send JSON text frames, not binary")
    if len(raw) > MAX_MESSAGE:
        raise CommandRefused("too_large", f"A message is at most {MAX_MESSAGE // 1024} KB")
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to read
        raise CommandRefused("malformed", "The message is not valid JSON") from None
    if not isinstance(message, dict):
        raise CommandRefused("malformed", "Send a JSON object")
    if not _text_is_valid(message):
        # JSON escapes can spell a lone UTF-16 surrogate, which no reply or broadcast could
        # encode, and a NUL, which PostgreSQL will not store: refuse before anything echoes it.
        raise CommandRefused("malformed", "The message has text that is not valid Unicode (or a NUL)")
    ref = message.pop("ref", None)
    if not (ref is None or (isinstance(ref, str) and len(ref) <= 64) or type(ref) is int):
        raise CommandRefused("malformed", "ref must be a string of up to 64 characters or a number")
    if message.pop("v", None) not in ACCEPTED_VERSIONS:
        raise CommandRefused("unsupported_version", f'Send "v": {VERSION}')
    if not isinstance(message.get("type"), str):
        raise CommandRefused("malformed", "Say the message's type")
    return message, ref


_INVALID_TEXT = re.compile("[\x00\ud800-\udfff]")


def _text_is_valid(message: dict[str, Any]) -> bool:
    """Every string in the message, keys included, is UTF-8 encodable and has no NUL. (A loop,
    not recursion: JSON nested as deep as json.loads allows must not exhaust the stack here.)"""
    pending: list[Any] = [message]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _INVALID_TEXT.search(value):
                return False
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return True


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def welcome(session_id: int, role: str, juror_id: int | None) -> str:
    return dumps({"v": VERSION, "type": "welcome", "session": session_id, "role": role, "juror": juror_id})


def event(seq: int, projected: dict[str, Any], state: dict[str, Any] | None = None) -> str:
    message: dict[str, Any] = {"v": VERSION, "type": "event", "id": seq, "event": projected}
    if state is not None:
        message["state"] = state
    return dumps(message)


def snapshot(seq: int, state: dict[str, Any]) -> str:
    return dumps({"v": VERSION, "type": "snapshot", "id": seq, "state": state})


def ack(ref: Ref, ids: list[int]) -> str:
    return dumps({"v": VERSION, "type": "ack", "ref": ref, "ids": ids})


def pong(ref: Ref) -> str:
    return dumps({"v": VERSION, "type": "pong", "ref": ref})


def error(code: str, message: str, ref: Ref = None) -> str:
    return dumps({"v": VERSION, "type": "error", "code": code, "message": message, "ref": ref})
