"""Pages anyone can see: the front page and the health checks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from polls.http.kit.render import render
from polls.runtime import Runtime, runtime
from polls.store import pilots as pilot_store
from polls.store.db import ping
from polls.store.migrate import current_revision, schema_verdict
from polls.web import STATIC_DIR


async def front_page(request: Request) -> Response:
    async with runtime(request).db() as db:
        pilots = await pilot_store.pilots_by_name(db)
    return render(request, "home.html", {"pilots": pilots})


async def _checks(rt: Runtime) -> dict[str, str]:
    """Each thing this instance needs to take work, "ok" or what is wrong with it. Reported,
    never raised: these endpoints exist to say what is down."""
    checks = {}
    try:
        await ping(rt.engine)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    try:
        await rt.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"down: {type(exc).__name__}"
    if checks["database"] == "ok":
        verdict = schema_verdict(await current_revision(rt.engine))
        checks["schema"] = "ok" if verdict in ("ok", "newer") else verdict
    else:
        checks["schema"] = "unknown: the database is down"
    checks["vote_writer"] = "ok" if rt.booth.writer.alive else "stopped"
    return checks


async def ready(request: Request) -> Response:
    """For readiness probes and load balancers: 200 when the database and Redis answer, the
    schema is current and the vote writer runs; 503 naming what is not, and while shutting down."""
    rt = runtime(request)
    checks = await _checks(rt)
    healthy = all(v == "ok" for v in checks.values()) and not rt.draining
    status = "ok" if healthy else "stopping" if rt.draining else "degraded"
    return JSONResponse({"status": status, **checks}, status_code=200 if healthy else 503)


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
    Route("/readyz", ready, methods=["GET"]),
    Route("/healthz", ready, methods=["GET"]),  # the older name, kept for existing probes
    Route("/livez", alive, methods=["GET"]),
]
