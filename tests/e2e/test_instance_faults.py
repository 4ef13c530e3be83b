"""Faults on the production topology (issue 15): two `polls serve` processes sharing Redis and a
database lose an instance to kill -9, or Redis to a restart, while residents vote."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballots import check_ballot
from polls.live.embedded import EmbeddedRedis
from polls.live.tallies import PRESENT, Tallies
from polls.settings import Settings
from polls.store.ballots import load_poll, poll_definition
from polls.store.codes import IssuedCode
from polls.store.db import open_engine, sessions_for, sqlite_file
from polls.store.models import Ballot, Nullifier
from tests.conftest import count
from tests.factories import SECRET
from tests.servers import AppProcess, free_port
from tests.voting_setup import Setup, issue, token


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
                # Votes claimed by the instance about to die, none stored. (A batch whose claim
                # took over 0.25 s on a loaded machine goes on unclaimed: the database decides.)
                assert await _claims(redis, poll_id) > len(cards) // 2
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


async def store_ballots(db: AsyncSession, voting: Setup, n: int) -> None:
    """n ballots straight into the database, as if residents had voted for weeks."""
    poll = poll_definition(await load_poll(db, voting.poll["id"]))
    answers = check_ballot(poll, voting.full_ballot())
    for start in range(0, n, 5000):
        rows = [
            {
                "poll_id": poll.id,
                "tracker": secrets.token_hex(16),
                "area_id": voting.areas[1]["id"],
                "channel": "online",
                "answers": answers,
            }
            for _ in range(min(5000, n - start))
        ]
        await db.execute(insert(Ballot), rows)
    await db.commit()


class Voters:
    """Residents voting at every instance without pause, each code once; and a liveness probe's
    answers, timed, to see an instance that stalls."""

    def __init__(
        self, servers: list[AppProcess], poll_id: int, cards: list[IssuedCode], ballot: object
    ) -> None:
        self.servers, self.poll_id, self.ballot = servers, poll_id, ballot
        self.cards = iter(cards)
        self.statuses: list[int] = []
        self.slowest_alive = 0.0
        self.running = True

    async def vote(self, http: httpx.AsyncClient) -> None:
        for card in self.cards:
            if not self.running:
                return
            try:
                response = await http.post(
                    f"/api/polls/{self.poll_id}/votes", json={"code": token(card), "answers": self.ballot}
                )
                self.statuses.append(response.status_code)
            except httpx.HTTPError:
                self.statuses.append(0)
            await asyncio.sleep(0.02)

    async def check_alive(self, http: httpx.AsyncClient) -> None:
        while self.running:
            started = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):
                await http.get("/livez")  # the process alone: no database, no Redis
            self.slowest_alive = max(self.slowest_alive, time.monotonic() - started)
            await asyncio.sleep(0.05)

    async def run(self, during: Callable[[], Awaitable[None]]) -> None:
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(httpx.AsyncClient(base_url=s.base_url, timeout=30))
                for s in self.servers
            ]
            tasks = [asyncio.create_task(self.vote(c)) for c in clients for _ in range(3)]
            tasks += [asyncio.create_task(self.check_alive(c)) for c in clients]
            try:
                await during()
            finally:
                self.running = False
                await asyncio.gather(*tasks)


@pytest.mark.e2e
async def test_after_redis_restarts_under_voting_one_rebuild_leaves_tallies_equal_to_the_database(
    voting: Setup, settings: Settings, db: AsyncSession, tmp_path: Path
) -> None:
    stored_before = 40_000
    await store_ballots(db, voting, stored_before)
    cards = await issue(settings, voting.pilot["id"], voting.areas[0]["id"], 1500)
    own_redis = EmbeddedRedis(tmp_path / "redis", port=free_port(), persistent=False)
    own_redis.start()
    servers = [AppProcess(_env(settings, own_redis.url)) for _ in range(2)]
    voters = Voters(servers, voting.poll["id"], cards, voting.full_ballot())

    async def restart_redis() -> None:
        await asyncio.sleep(2)
        await asyncio.to_thread(own_redis.stop)  # everything in it is lost: tallies, claims
        await asyncio.to_thread(own_redis.start)
        await asyncio.sleep(8)

    started: list[AppProcess] = []
    try:
        for server in servers:
            server.start()
            started.append(server)
        await voters.run(restart_redis)
        redis = Redis.from_url(own_redis.url, decode_responses=True)
        engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
        try:
            tallies = Tallies(redis, sessions_for(engine))
            check = await tallies.check(voting.poll["id"])
            for _ in range(100):  # the rebuild finishes
                if check.agrees and await redis.exists(PRESENT):
                    break
                await asyncio.sleep(0.1)
                check = await tallies.check(voting.poll["id"])
        finally:
            await redis.aclose()
            await engine.dispose()
    finally:
        for server in started:
            server.stop()
        own_redis.stop()
    acknowledged = voters.statuses.count(201)
    assert acknowledged > 100 and set(voters.statuses) <= {201, 503}, voters.statuses
    assert check.agrees, check.differences  # no increment lost or counted twice
    stored = await count(db, Ballot) - stored_before
    assert acknowledged <= stored == await count(db, Nullifier)  # each vote stored once
    assert check.ballots == stored_before + stored
    assert voters.slowest_alive < 1.0, f"an instance stalled {voters.slowest_alive:.2f} s"
