"""A throwaway PostgreSQL cluster on a free port, started with initdb/pg_ctl: the tests' (fsync off,
for speed) and the benchmarks' (fsync and synchronous_commit on, as production runs)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


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


def installed() -> bool:
    """Whether the PostgreSQL server's binaries are here to start a cluster with."""
    return _pg_bin("initdb") is not None and _pg_bin("pg_ctl") is not None


class Postgres:
    """A throwaway PostgreSQL cluster on a free port. As root it runs as the postgres account,
    since PostgreSQL refuses to run as root. ``durable`` keeps fsync (and synchronous_commit,
    PostgreSQL's default) on, as in production; the tests turn fsync off."""

    def __init__(self, *, durable: bool = False, settings: dict[str, str] | None = None) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.durable = durable
        self.settings = {"max_connections": "200", **(settings or {})}
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
        # --no-sync: initdb's own files; the server's fsync setting is what durability rests on.
        self._run(self.initdb, "-D", data, "--auth=trust", "--username=postgres", "-E", "UTF8", "--no-sync")
        settings = {"fsync": "on" if self.durable else "off", **self.settings}
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {name}={value}" for name, value in settings.items()
        )
        self._run(self.pg_ctl, "-D", data, "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def postmaster_pid(self) -> int:
        """The server's first process (its backends are its children)."""
        return int((self.dir / "data" / "postmaster.pid").read_text().split()[0])

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"
