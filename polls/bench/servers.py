"""The two servers a vote benchmark compares: the real app, and a bare Starlette JSON endpoint."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from polls import serving


def bare_app() -> Starlette:
    """The baseline: parse the same JSON body and answer 201 with a small JSON object."""

    async def accept(request: Request) -> Response:
        body = json.loads(await request.body())
        return JSONResponse({"ok": True, "fields": len(body)}, status_code=201)

    return Starlette(routes=[Route("/api/polls/{poll_id:int}/votes", accept, methods=["POST"])])


def serve(kind: str, port: int, env_file: str | None = None) -> None:
    """Run one server the way production runs one worker: uvicorn, uvloop, httptools, no access log."""
    if os.environ.get("POLLS_BENCH_PROFILE") and kind == "app":
        import runpy

        sys.argv = ["prof", str(port), env_file or ""]
        runpy.run_path(os.environ["POLLS_BENCH_PROFILE"], run_name="__main__")
        return
    if kind == "bare":
        app = bare_app()
    else:
        from polls.app import create_app
        from polls.settings import from_environment

        if env_file:
            os.environ.update(json.loads(Path(env_file).read_text()))
        app = create_app(from_environment(production=False), run_scheduler=False)
        serving.tune_runtime()  # as `polls serve` does
    config = serving.config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
    serving.run(config)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
