"""The app under uvicorn, configured once for `polls dev`, `polls serve`, the benches and the tests."""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import sys
from typing import Literal

import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from polls.domain.jury_protocol import MAX_MESSAGE
from polls.redaction import redact_secrets

# uvicorn reads a whole websocket message into memory before the app sees it (16 MiB by default).
# The longest any of our sockets reads is a jury room command of MAX_MESSAGE characters, at most
# four bytes each in UTF-8; uvicorn closes a socket sending more (1009) and the app never sees it.
WS_MAX_SIZE = 4 * MAX_MESSAGE


def config(
    app: ASGIApp | str,
    *,
    host: str,
    port: int,
    log_level: Literal["debug", "info", "warning"] = "info",
    access_log: bool = False,
    workers: int = 1,
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",),
    loop: Literal["auto", "uvloop"] = "auto",
    http: Literal["auto", "httptools"] = "auto",
) -> uvicorn.Config:
    """The uvicorn configuration of one server of the app (or of the benchmarks' bare endpoint).

    app: the app, or with several ``workers`` the import name of a function that builds it.
    access_log: uvicorn's own access log, off: the app logs one cheaper line per request
    (polls.http.kit.observe), and the log format is polls.logs', not uvicorn's.
    trusted_proxies: the addresses or networks whose X-Forwarded-For and X-Forwarded-Proto are
    believed (TRUSTED_PROXIES with `polls serve --proxy-headers`); empty believes no one. Anyone
    else could otherwise name a new address with each request and escape per-address limits.
    """
    redact_secrets()  # before uvicorn logs anything (polls.redaction)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        log_config=None,
        workers=workers,
        factory=isinstance(app, str),
        loop=loop,
        http=http,
        lifespan="on",
        ws_max_size=WS_MAX_SIZE,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies),
    )


class Server(uvicorn.Server):
    """uvicorn's server, telling the app first when asked to stop (SIGTERM, Ctrl-C): the app
    (polls.app.PollsApp.drain) closes its websockets with a code saying "reconnect" before
    uvicorn drops them, then uvicorn answers the requests in flight and runs the lifespan's end."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app: object = self.config.loaded_app if self.config.loaded else self.config.app
        for _ in range(4):  # through uvicorn's own wrappers (proxy headers, message logger)
            if hasattr(app, "drain"):
                try:
                    await app.drain()
                except Exception:
                    logging.getLogger("polls").exception("draining the app failed")
                break
            app = getattr(app, "app", None)
        await super().shutdown(sockets)


class _Worker(multiprocess.Process):
    """One worker process of `polls serve --workers N`, running our Server."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = Server(config=self.config)
        return self._server


def run(server_config: uvicorn.Config) -> None:
    """Serve until stopped, as `uvicorn.run` does with one worker: Ctrl-C ends it quietly, and a
    server that never started exits with uvicorn's start-up failure status."""
    server = Server(server_config)
    with contextlib.suppress(KeyboardInterrupt):
        if server_config.workers > 1:
            # uvicorn's supervisor builds each worker's server from the class named in its
            # module: there, ours, so that every worker drains as one server does.
            multiprocess.Process = _Worker  # type: ignore[misc]
            sock = server_config.bind_socket()
            multiprocess.Multiprocess(server_config, sockets=[sock]).run()
        else:
            server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def tune_runtime() -> None:
    """Settings of the Python runtime for a serving process.

    Collect young objects less often: each vote makes many short-lived objects, and the
    default thresholds made collections run mid-request often enough to double the slowest
    1% of response times. Objects alive at start-up are frozen out of collections entirely.

    Hand the GIL over sooner: aiosqlite's threads (a typed short code is looked up through
    one) need it for a moment between SQLite statements, and with the default 5 ms they waited
    that long each time behind a busy event loop. (When ballots were still written from a
    thread, 0.5 ms gave about 10% more votes a second in `polls bench votes`.)"""
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    sys.setswitchinterval(0.0005)
