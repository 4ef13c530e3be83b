"""Adversary: another account on the same host (a shared server, a compromised service
running as another user). Reads the SQLite database and its write-ahead log straight from
disk, where ballots, audit entries and staff password hashes sit. The files are created
readable by their owner only (0600), like the key files, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from polls.store.db import open_engine
from polls.store.migrate import upgrade
from tests.conftest import in_thread


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: new files readable by everyone
    yield
    os.umask(old)


async def test_the_database_and_its_log_are_readable_by_their_owner_only(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "polls.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    in_thread(lambda: upgrade(url))
    engine = open_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files), files
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await engine.dispose()


async def test_an_existing_world_readable_database_is_made_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "polls.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    in_thread(lambda: upgrade(url))
    path.chmod(0o644)
    engine = open_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        assert _mode(path) == 0o600
    finally:
        await engine.dispose()
