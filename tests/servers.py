"""Real servers for the tests: redis-server, PostgreSQL, and the app under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Literal

import httpx
from starlette.types import ASGIApp

from polls import serving
from polls.bench.postgres import Postgres as Postgres


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def in_this_process(
    app: ASGIApp,
    *,
    log_level: Literal["debug", "info", "warning"] = "warning",
    when_configured: Callable[[], None] | None = None,
    port: int | None = None,
) -> AsyncIterator[str]:
    """The app under a real uvicorn server in this process, configured by polls.serving as the
    `polls` command runs it (but quieter); its host:port while the block runs.
    ``when_configured`` runs once uvicorn has set up its loggers, before it serves; ``port`` is
    for an app whose settings must know its address beforehand (its BASE_URL)."""
    port = port or free_port()
    server = serving.Server(serving.config(app, host="127.0.0.1", port=port, log_level=log_level))
    if when_configured is not None:
        when_configured()
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class AppProcess:
    """`polls serve` in a subprocess, as production runs it."""

    def __init__(self, env: dict[str, str], port: int | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.args = args
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, within: float = 20) -> None:
        polls = str(Path(sys.executable).parent / "polls")
        # A file, not a pipe: a pipe nobody reads fills up and blocks the server.
        self.log = tempfile.NamedTemporaryFile(prefix="polls-serve-", suffix=".log", delete=False)  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [polls, "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"polls serve exited: {self.output()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        output = self.output()
        self.stop()
        raise RuntimeError(f"polls serve did not become healthy in {within} s: {output[-3000:]}")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
