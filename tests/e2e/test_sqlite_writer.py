"""The SQLite ballot writer process: killed, it loses no acknowledged vote and a vote it never
answered can be cast again; the app killed or stopped, it ends too."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.db import sqlite_file
from polls.store.models import Ballot
from polls.voting import sqlite_handover
from polls.voting.writer import UNCONFIRMED
from tests.conftest import count
from tests.factories import SECRET
from tests.servers import AppProcess
from tests.voting_setup import Setup, issue, settled_tallies, token, vote


def _sqlite_path(settings: Settings) -> str:
    path = sqlite_file(settings.database_url)
    if path is None:
        pytest.skip("the SQLite file's writer process")
    return path


@contextmanager
def _write_lock_held(path: str) -> Iterator[None]:
    """Hold the database's write lock, as a long transaction elsewhere would."""
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def _writer_processes(parent: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(parent)], capture_output=True, text=True
    ).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "polls.voting.sqlite_process" in line]


def _ended(pid: int, within: float = 15) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split()[2] == "Z":
            return True  # ended, and its parent (gone) has not reaped it yet
        time.sleep(0.1)
    return False


async def test_votes_the_killed_writer_never_answered_are_told_unconfirmed_and_can_vote_again(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession, settings: Settings
) -> None:
    path = _sqlite_path(settings)
    runtime: Any = client._transport.app.state.runtime  # type: ignore[attr-defined]
    poll_id = voting.poll["id"]
    first = await vote(client, poll_id, token(voting.codes["north"][0]), voting.full_ballot())
    assert first.status_code == 201
    store = runtime.booth.writer.store
    assert isinstance(store, sqlite_handover.SqliteBallots)
    killed = store._process.pid
    others = voting.codes["north"][1:]
    with _write_lock_held(path):
        waiting = [
            asyncio.ensure_future(vote(client, poll_id, token(c), voting.full_ballot())) for c in others
        ]
        await asyncio.sleep(0.5)  # handed over: the writer waits for the lock
        assert not any(w.done() for w in waiting)
        os.kill(killed, signal.SIGKILL)
        responses = await asyncio.wait_for(asyncio.gather(*waiting), 30)
    assert [(r.status_code, r.json()["code"]) for r in responses] == [(503, "service_unavailable")] * 4
    assert {r.json()["message"] for r in responses} == {UNCONFIRMED}
    assert await count(db, Ballot) == 1
    again = [await vote(client, poll_id, token(c), voting.full_ballot()) for c in others]
    assert [r.status_code for r in again] == [201] * 4  # a new writer process took them
    assert store._process.pid != killed
    assert await count(db, Ballot) == 5
    check = await settled_tallies(runtime, poll_id)
    assert check.agrees, check.differences
    assert check.ballots == 5


async def test_a_vote_the_database_is_too_slow_to_commit_is_told_unconfirmed_and_not_counted_twice(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession, settings: Settings
) -> None:
    path = _sqlite_path(settings)
    runtime: Any = client._transport.app.state.runtime  # type: ignore[attr-defined]
    poll_id = voting.poll["id"]
    credential = token(voting.codes["north"][0])
    runtime.booth.writer.answer_within = 1.0
    with _write_lock_held(path):  # longer than the writer waits to answer
        slow = await vote(client, poll_id, credential, voting.full_ballot())
    assert (slow.status_code, slow.json()["message"]) == (503, UNCONFIRMED)
    for _ in range(100):  # handed over before the answer: it commits once the lock is free
        if await count(db, Ballot) == 1:
            break
        await asyncio.sleep(0.05)
    assert await count(db, Ballot) == 1
    again = await vote(client, poll_id, credential, voting.full_ballot())
    assert (again.status_code, again.json()["code"]) == (409, "code_already_used")
    assert await count(db, Ballot) == 1


def _serve(settings: Settings) -> AppProcess:
    return AppProcess(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "SECRET_KEYS": SECRET,
            "BALLOT_KEY": settings.ballot_key,
            "BASE_URL": "http://127.0.0.1",
            "SECURE_COOKIES": "0",
        }
    )


@pytest.mark.e2e
async def test_the_app_killed_mid_vote_keeps_every_acknowledged_vote_and_its_writer_ends(
    voting: Setup, settings: Settings, db: AsyncSession
) -> None:
    _sqlite_path(settings)
    codes = await issue(settings, voting.pilot["id"], voting.areas[0]["id"], 300)
    server = _serve(settings)
    server.start()
    acknowledged: list[str] = []
    try:
        assert server.process is not None
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            poll_id = voting.poll["id"]
            first = await vote(http, poll_id, token(codes[0]), voting.full_ballot())
            acknowledged.append(first.json()["tracker"])
            (writer,) = _writer_processes(server.process.pid)
            queue = iter(codes[1:])
            enough = asyncio.Event()

            async def voter() -> None:
                for issued in queue:
                    try:
                        response = await vote(http, poll_id, token(issued), voting.full_ballot())
                    except httpx.TransportError:
                        return  # the app is gone: this vote was never acknowledged
                    if response.status_code == 201:
                        acknowledged.append(response.json()["tracker"])
                        if len(acknowledged) == 50:
                            enough.set()

            voters = [asyncio.ensure_future(voter()) for _ in range(20)]
            await asyncio.wait_for(enough.wait(), 60)
            server.process.kill()  # SIGKILL: no shutdown of any kind
            await asyncio.gather(*voters)
    finally:
        server.stop()
    assert _ended(writer), "the writer process outlived the app"
    stored = set((await db.execute(select(Ballot.tracker).where(Ballot.poll_id == poll_id))).scalars())
    assert set(acknowledged) <= stored
    assert len(acknowledged) < len(codes)  # it was killed mid-vote


@pytest.mark.e2e
async def test_stopping_the_app_ends_its_writer_process(
    voting: Setup, settings: Settings, db: AsyncSession
) -> None:
    _sqlite_path(settings)
    server = _serve(settings)
    server.start()
    try:
        assert server.process is not None
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            poll_id = voting.poll["id"]
            credential = token(voting.codes["north"][0])
            assert (await vote(http, poll_id, credential, voting.full_ballot())).status_code == 201
        (writer,) = _writer_processes(server.process.pid)
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=20)  # uvicorn shuts down, then ends by the signal it caught
        assert "Application shutdown complete" in server.output()
        assert _ended(writer, within=5), "the writer process outlived the app"
    finally:
        server.stop()
    assert await count(db, Ballot) == 1
