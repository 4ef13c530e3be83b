"""Faults on the production topology (issue 15): two `polls serve` processes sharing Redis and a
database lose an instance to kill -9, or Redis to a restart, while residents vote."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.db import open_engine, sqlite_file
from polls.store.models import Ballot, Nullifier
from tests.conftest import count
from tests.factories import SECRET
from tests.servers import AppProcess
from tests.voting_setup import Setup, token


def _env(settings: Settings, redis_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEYS": SECRET,
        "BALLOT_KEY": settings.ballot_key,
        "BASE_URL": "http://127.0.0.1",
        "SECURE_COOKIES": "0",
    }


def kill_hard(server: AppProcess) -> None:
    """kill -9 the instance and its own processes (a SQLite file's writer), as a node dies."""
    assert server.process is not None
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for victim in [pid, *map(int, children)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    server.process.wait()


@contextlib.asynccontextmanager
async def ballots_held(database_url: str, poll_id: int) -> AsyncIterator[None]:
    """Hold the database so batches wait in their transaction, their claims taken in Redis."""
    path = sqlite_file(database_url)
    if path is not None:
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        return
    engine = open_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT id FROM polls WHERE id = :id FOR UPDATE"), {"id": poll_id})
            yield
            await conn.rollback()
    finally:
        await engine.dispose()


async def _claims(redis: Redis, poll_id: int) -> int:
    return len([key async for key in redis.scan_iter(f"spent:{poll_id}:*")])


@pytest.mark.e2e
async def test_votes_in_flight_on_a_killed_instance_can_be_cast_again_at_the_other_within_seconds(
    voting: Setup, settings: Settings, db: AsyncSession, redis: Redis
) -> None:
    poll_id = voting.poll["id"]
    cards = [*voting.codes["north"], *voting.codes_for_restart]
    env = _env(settings, settings.redis_url)
    doomed, survivor = AppProcess(env), AppProcess(env)
    doomed.start()
    survivor.start()
    url = f"/api/polls/{poll_id}/votes"
    bodies = [{"code": token(card), "answers": voting.full_ballot()} for card in cards]
    finals: list[int] = []
    try:
        async with (
            httpx.AsyncClient(base_url=doomed.base_url, timeout=30) as one,
            httpx.AsyncClient(base_url=survivor.base_url, timeout=30) as two,
        ):
            async with ballots_held(settings.database_url, poll_id):
                in_flight = [asyncio.ensure_future(one.post(url, json=body)) for body in bodies]
                for _ in range(200):
                    if await _claims(redis, poll_id) == len(cards):
                        break
                    await asyncio.sleep(0.05)
                assert await _claims(redis, poll_id) == len(cards)  # every vote claimed, none stored
                kill_hard(doomed)
                killed_at = time.monotonic()
            outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
            assert all(isinstance(o, httpx.HTTPError) for o in outcomes), outcomes  # none acknowledged

            async def retry(body: dict[str, object]) -> int:
                while True:  # what a resident does when told to try again
                    response = await two.post(url, json=body)
                    if response.status_code == 201 or time.monotonic() > killed_at + 10:
                        return response.status_code
                    await asyncio.sleep(0.25)

            finals = await asyncio.gather(*(retry(body) for body in bodies))
            recovered_in = time.monotonic() - killed_at
    finally:
        doomed.stop()
        survivor.stop()
    assert finals == [201] * len(cards), finals
    assert recovered_in < 8, recovered_in
    assert await count(db, Ballot) == len(cards)  # every acknowledged vote stored exactly once
    assert await count(db, Nullifier) == len(cards)
