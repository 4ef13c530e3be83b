"""The servers a vote benchmark runs, and the CPU each spends.

SQLite: the embedded set-up (one app process with its writer process, a redis-server) as `make
run` has it. PostgreSQL: the production topology, a PostgreSQL cluster of its own (fsync and
synchronous_commit on), an external redis-server and N `polls serve` processes started as the
command line starts them. Beside the app, as many bare Starlette endpoints as instances.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from polls.bench.postgres import Postgres, free_port
from polls.live.embedded import EmbeddedRedis
from polls.store.migrate import upgrade

SQLITE, POSTGRESQL = "sqlite", "postgresql"


def wait_healthy(port: int, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("benchmark server exited at start")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("benchmark server did not start")


def start_bench_server(kind: str, port: int, env_file: Path | None = None) -> subprocess.Popen[bytes]:
    """The app in the embedded set-up, or the bare endpoint (polls.bench.servers)."""
    args = [sys.executable, "-m", "polls.bench.servers", kind, str(port)]
    if env_file is not None:
        args.append(str(env_file))
    process = subprocess.Popen(
        args, stdout=None if os.environ.get("POLLS_BENCH_PROFILE") else subprocess.DEVNULL
    )
    wait_healthy(port, process, "/healthz" if kind == "app" else "/")
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _ticks(pid: int, waited: bool = False) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime; and with ``waited`` the children that have exited (cutime, cstime)
    return sum(int(f) for f in fields[11 : 15 if waited else 13])


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def cpu_seconds(pid: int, with_children: bool = True) -> tuple[float, float] | None:
    """CPU seconds used by a process, and by its children (alive now, or exited and waited for);
    None where /proc is missing."""
    try:
        own = _ticks(pid)
        theirs = _ticks(pid, waited=True) - own
        if with_children:
            theirs += sum(_ticks(child) for child in _children(pid))
    except (OSError, ValueError):
        return None
    return own / os.sysconf("SC_CLK_TCK"), theirs / os.sysconf("SC_CLK_TCK")


@dataclass
class Topology:
    """The servers of one run: database, Redis, app instances and bare endpoints."""

    workdir: Path
    database: str = SQLITE
    instances: int = 1
    redis: EmbeddedRedis | None = None
    postgres: Postgres | None = None
    database_url: str = ""
    apps: list[subprocess.Popen[bytes]] = field(default_factory=list)
    app_ports: list[int] = field(default_factory=list)
    bares: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bare_ports: list[int] = field(default_factory=list)

    def start_services(self) -> None:
        """The database (migrated, empty) and Redis."""
        self.redis = EmbeddedRedis(self.workdir / "redis", persistent=False)  # as the app's embedded default
        if self.database == POSTGRESQL:
            self.postgres = Postgres(durable=True)
            self.postgres.start()
            asyncio.run(_create_database(self.postgres.port, "polls"))
            self.database_url = self.postgres.url("polls")
        else:
            self.database_url = f"sqlite+aiosqlite:///{self.workdir / 'polls.sqlite3'}"
        upgrade(self.database_url)
        self.redis.start()

    def start_servers(self, env: dict[str, str]) -> None:
        """The app's instances and as many bare endpoints."""
        if self.database == SQLITE:
            env_file = self.workdir / "env.json"
            env_file.write_text(json.dumps(env))
            port = free_port()
            self.apps.append(start_bench_server("app", port, env_file))
            self.app_ports.append(port)
        else:
            for n in range(self.instances):
                port = free_port()
                self.apps.append(_serve(port, env, self.workdir / f"serve-{n + 1}.log"))
                self.app_ports.append(port)
        for _ in range(self.instances):
            port = free_port()
            self.bares.append(start_bench_server("bare", port))
            self.bare_ports.append(port)

    def cpu(self) -> dict[str, float | None]:
        """CPU seconds so far: the app's instances (and SQLite writer), PostgreSQL's processes,
        Redis, the bare endpoints. None where it cannot be read."""
        apps = [cpu_seconds(p.pid) for p in self.apps]
        bares = [cpu_seconds(p.pid, with_children=False) for p in self.bares]
        postgres = cpu_seconds(self.postgres.postmaster_pid()) if self.postgres else None
        process = self.redis.process if self.redis else None
        redis = cpu_seconds(process.pid, with_children=False) if process else None
        return {
            "app": None if None in apps else sum(a[0] for a in apps if a),
            "writer": None if None in apps or self.postgres else sum(a[1] for a in apps if a),
            "postgres": sum(postgres) if postgres else None,
            "redis": redis[0] if redis else None,
            "bare": None if None in bares else sum(b[0] for b in bares if b),
        }

    def stop_apps(self) -> None:
        for process in self.apps:
            stop(process)
        self.apps = []

    def stop(self) -> None:
        for process in [*self.bares, *self.apps]:
            stop(process)
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()


async def _create_database(port: int, name: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _serve(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`polls serve` as production runs it (its access log included), logging to a file."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "polls.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **env, "BASE_URL": f"http://127.0.0.1:{port}"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(port, process)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}: {log.read_text(errors='replace')[-2000:]}") from None
    return process
