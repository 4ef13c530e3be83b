"""Each request, seen from outside: its id (X-Request-Id, taken from the proxy or made here,
sent back, and on every log line while it is answered), one access log line, and its latency
by route template. Cheap on purpose: uvicorn's own access log was a tenth of an instance's CPU.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars

from polls.logs import ACCESS
from polls.metrics import REQUEST_SECONDS
from polls.redaction import redact

access = logging.getLogger(ACCESS)


HEADER = b"x-request-id"
_ACCEPTABLE = re.compile(rb"[A-Za-z0-9._:\-]{1,64}")


def request_id(scope: Scope) -> str:
    """The proxy's request id when it is a plausible one (redacted: it is logged), else a new one."""
    for name, value in scope["headers"]:
        if name == HEADER:
            if _ACCEPTABLE.fullmatch(value):
                return redact(value.decode("ascii"))
            break
    return secrets.token_hex(8)


def route_template(scope: Scope) -> str:
    """The matched route's path with its parameters named, never the path itself (paths carry
    codes and tokens)."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    template: str = getattr(route, "path_format", None) or getattr(route, "path", "") or "unmatched"
    return template


_timers: dict[tuple[str, str, int], Callable[[float], None]] = {}


def finished(route: str, method: str, status: int, request: str, started: float) -> None:
    """Count and log one answered request (the vote path calls this too)."""
    seconds = time.perf_counter() - started
    key = (route, method, status)
    observe = _timers.get(key)
    if observe is None:
        observe = _timers[key] = REQUEST_SECONDS.labels(route, method, str(status)).observe
    observe(seconds)
    if access.isEnabledFor(logging.INFO):
        # Made and handed over directly: Logger.info would walk the stack to find its caller, and
        # the redacting record factory has nothing to do: a route template, a method, a status
        # and the request id (redacted when it came in) are all it holds.
        ms = round(seconds * 1000, 2)
        record = logging.LogRecord(ACCESS, logging.INFO, __file__, 0, f"{method} {route} {status}", (), None)
        record.access = {"request_id": request, "status": status, "duration_ms": ms}
        access.handle(record)


class Observe:
    """ASGI middleware: request ids, the access line and latency of every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = request_id(scope)
        bind_contextvars(request_id=request)
        header = (HEADER, request.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            finished(route_template(scope), scope["method"], status, request, started)
