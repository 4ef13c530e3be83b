"""Real servers for the tests: redis-server, PostgreSQL, and the app under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class Postgres:
    """A throwaway PostgreSQL cluster on a free port. As root it runs as the postgres account,
    since PostgreSQL refuses to run as root."""

    def __init__(self) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="polls-pg-"))
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            uid = pwd.getpwnam("postgres").pw_uid
            os.chown(self.dir, uid, -1)

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        data = str(self.dir / "data")
        self._run(
            self.initdb,
            "-D",
            data,
            "--auth=trust",
            "--username=postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        self._run(self.pg_ctl, "-D", data, "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"


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
