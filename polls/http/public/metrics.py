"""`/metrics` for Prometheus: open in `polls dev`; in production only to a bearer of
METRICS_TOKEN, and not there at all without one."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.errors import NotFound
from polls.metrics import CONTENT_TYPE, exposition
from polls.runtime import runtime


def _allowed(request: Request) -> bool:
    settings = runtime(request).settings
    if settings.metrics_open:
        return True
    if not settings.metrics_token:
        raise NotFound("There is no such page")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), settings.metrics_token.encode())


async def metrics(request: Request) -> Response:
    if not _allowed(request):
        return Response("a bearer token is needed\n", status_code=401, headers={"www-authenticate": "Bearer"})
    return Response(exposition(), media_type=CONTENT_TYPE, headers={"cache-control": "no-store"})


routes = [Route("/metrics", metrics, methods=["GET"])]
