"""Whole-database copies for backups, and putting one back.

PostgreSQL through pg_dump/pg_restore (custom format); SQLite through its online backup API, so
a copy can be taken while the service runs and is consistent (the write-ahead log included).
A copy holds the database only: the keys (BALLOT_KEY, SECRET_KEYS, the returning officer's
private key) are settings and files kept elsewhere, and must stay apart from it.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from polls.store.db import sqlite_file


class BackupError(Exception):
    """The copy could not be made or put back; the message says why and what to do."""


def backup(database_url: str, path: Path) -> None:
    """Write a copy of the database to ``path`` (readable by its owner only)."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        source = sqlite_file(database_url)
        if source is not None:
            _sqlite_backup(source, partial)
        else:
            _run(_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={partial}", url=database_url)  # fmt: skip
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def restore(database_url: str, path: Path, *, replace: bool = False) -> None:
    """Put the copy at ``path`` into the database, which must be empty unless ``replace``."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    target = sqlite_file(database_url)
    if target is not None:
        _sqlite_restore(path, Path(target), replace=replace)
        return
    options = ["--clean", "--if-exists"] if replace else []
    # One transaction: a failed restore leaves the database as it was.
    _run(_pg_tool("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner",
         "--no-privileges", *options, str(path), url=database_url, into=True)  # fmt: skip


def _sqlite_backup(source: str, partial: Path) -> None:
    if not Path(source).is_file():
        raise BackupError(f"{source}: no such database file")
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
        # Rewritten compactly: no free pages, nothing of what was deleted or overwritten.
        dst.execute("VACUUM")
    src.close()
    dst.close()


def _sqlite_restore(path: Path, target: Path, *, replace: bool) -> None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as copy:
        try:
            copy.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            raise BackupError(f"{path}: not a backup of a polls SQLite database") from None
        if target.exists() and not replace and _has_tables(target):
            raise BackupError(f"{target} already holds data: restore into a fresh file, or pass --replace")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
        with sqlite3.connect(target) as into:
            copy.backup(into)
        into.close()
    copy.close()


def _has_tables(file: Path) -> bool:
    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as db:
        found = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    db.close()
    return bool(found)


def _pg_tool(name: str) -> str:
    """The newest installed pg_dump/pg_restore: it must be at least as new as the server."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    tool = found[-1] if found else shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} is not installed (it comes with the PostgreSQL client tools)")
    return tool


def _version(tool: str) -> int:
    number = Path(tool).parent.parent.name
    return int(number) if number.isdigit() else 0


def _run(tool: str, *args: str, url: str, into: bool = False) -> None:
    """Run a PostgreSQL tool against the database; the password goes in its environment, never on
    a command line others can list."""
    parsed = make_url(url)
    env = {**os.environ, "PGPASSWORD": parsed.password or ""} if parsed.password else dict(os.environ)
    dsn = _libpq(parsed)
    command = [tool, *args, f"--dbname={dsn}"] if into else [tool, *args, dsn]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(tool).name} failed: {done.stderr.strip()[-2000:]}")


def _libpq(url: URL) -> str:
    """The libpq form of an asyncpg URL, without the password."""
    query = dict(url.query)
    if "ssl" in query:  # asyncpg's name for it
        query["sslmode"] = query.pop("ssl")
    plain = url.set(drivername="postgresql", password=None, query=query)
    return plain.render_as_string(hide_password=False)
