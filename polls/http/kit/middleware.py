"""Cross-cutting HTTP protections: body size limit and security headers."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polls.errors import ErrorCode

MAX_BODY = 6 * 1024 * 1024  # the largest upload we take (a CSV of areas) plus form overhead

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'",
    ),
]

# The vote answer is JSON, never a page: nothing to load, frame, sniff, or keep in a cache (a
# receipt is the resident's own).
API_RESPONSE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


# Pages show voting links, codes, QR codes, receipts and invitation links: no browser history or
# proxy may keep them. Only the static assets (and files that say otherwise) may be cached.
NO_STORE = (b"cache-control", b"no-store")
CACHEABLE_PATHS = ("/static/", "/assets/")


def _with_cache_rule(path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    if path.startswith(CACHEABLE_PATHS) or any(k.lower() == b"cache-control" for k, _ in headers):
        return headers
    return [*headers, NO_STORE]


class _BodyOverLimit(Exception):
    """Raised inside the app's receive: answered here, not by the app's error handlers."""


class Protections:
    """Refuses bodies over MAX_BODY with 413 and adds security headers to every response, with
    `Cache-Control: no-store` on all but static assets."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(scope, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyOverLimit
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = _with_cache_rule(scope["path"], list(message.get("headers", [])))
                message["headers"] = headers + SECURITY_HEADERS
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyOverLimit:
            if not started:
                await self._too_large(scope, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "code": ErrorCode.BODY_TOO_LARGE,
                "message": f"The request is larger than {self.max_body // 1024 // 1024} MB",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
