"""Pages anyone can see: the front page and the health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import pilots as pilot_store
from polls.store.db import ping
from polls.web import STATIC_DIR


async def front_page(request: Request) -> Response:
    async with runtime(request).db() as db:
        pilots = await pilot_store.pilots_by_name(db)
    return render(request, "home.html", {"pilots": pilots})


async def health(request: Request) -> Response:
    """For load balancers: 200 when both the database and Redis answer, 503 otherwise."""
    rt = runtime(request)
    checks = {}
    try:
        await ping(rt.engine)
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this endpoint exists to say what is down
        checks["database"] = f"down: {type(exc).__name__}"
    try:
        await rt.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"down: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503
    )


async def alive(request: Request) -> Response:
    """For liveness probes: the process answers. Restarting cannot fix a database outage."""
    return JSONResponse({"status": "alive"})


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico whatever the page says: our icon (an SVG, which they take)."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml", headers=ICON_CACHE)


ICON_CACHE = {"Cache-Control": "public, max-age=604800"}

routes = [
    Route("/", front_page, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
    Route("/healthz", health, methods=["GET"]),
    Route("/livez", alive, methods=["GET"]),
]
