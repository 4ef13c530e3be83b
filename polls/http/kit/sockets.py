"""The websockets open on this instance, by kind, so that a stopping instance can tell each
client to reconnect (to another instance) before it goes, and so they can be counted."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polls.metrics import WEBSOCKETS

# 1012 "service restart": the client should reconnect, after a moment, to whatever the address
# now leads to. The browser clients (app.js, jury.js) reconnect on every code but 4401/4404.
RESTARTING = 1012
RESTARTING_REASON = "server restarting: reconnect"

CLOSE_WAIT = 2.0  # seconds

KINDS = (("/live/jury-sessions/", "jury_room"), ("/live/polls/", "live_results"))


def socket_kind(path: str) -> str:
    """Which room a socket follows, never which one: paths carry ids and tokens stay out."""
    for prefix, kind in KINDS:
        if path.startswith(prefix):
            return kind
    return "other"


class OpenSockets:
    """Accepted websockets, each by the ``send`` that reaches its client."""

    def __init__(self) -> None:
        self._open: dict[Send, str] = {}
        self._all_closed = asyncio.Event()
        self._all_closed.set()

    def count(self, kind: str) -> int:
        return sum(1 for k in self._open.values() if k == kind)

    def add(self, send: Send, kind: str) -> None:
        self._open[send] = kind
        self._all_closed.clear()
        WEBSOCKETS.labels(kind).inc()

    def discard(self, send: Send) -> None:
        kind = self._open.pop(send, None)
        if kind is not None:
            WEBSOCKETS.labels(kind).dec()
        if not self._open:
            self._all_closed.set()

    async def close_all(self) -> None:
        """Close every socket with RESTARTING, and wait (up to CLOSE_WAIT) for their handlers to
        end, so the clients read the code and reason before the server drops the connections."""
        for send in list(self._open):
            # The handler may be writing at this moment, or the client gone: either way the
            # socket ends, and the handler sees a disconnect.
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": RESTARTING, "reason": RESTARTING_REASON})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_closed.wait(), CLOSE_WAIT)


class TrackSockets:
    """ASGI middleware: every websocket this app accepts is in ``sockets`` until it ends."""

    def __init__(self, app: ASGIApp, sockets: OpenSockets) -> None:
        self.app = app
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        kind = socket_kind(scope["path"])
        sockets = self.sockets

        async def tracked_send(message: Message) -> None:
            if message["type"] == "websocket.accept":
                sockets.add(send, kind)
            elif message["type"] == "websocket.close":
                sockets.discard(send)
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        finally:
            sockets.discard(send)
