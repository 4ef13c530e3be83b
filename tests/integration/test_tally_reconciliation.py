"""Reconciling and rebuilding the live tallies of a big poll without stalling the instance
(issue 15: once a minute an instance froze 1-2 s while reconciliation loaded every ballot)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import insert

from polls.domain.ballots import PollDef, check_ballot
from polls.live.embedded import EmbeddedRedis
from polls.live.rebuild import PRESENT, Overtaken, Rebuild
from polls.live.tallies import CHANGED, Tallies, poll_keys, reconcile_forever
from polls.store.models import Ballot
from tests.voting_setup import Setup

BALLOTS = 40_000
REBUILD_LOCK = "tallies:rebuilding"  # held by the instance rebuilding
MAX_STALL = 0.1  # seconds the event loop may be kept from a ready coroutine


def _runtime(client: httpx.AsyncClient) -> Any:
    return client._transport.app.state.runtime  # type: ignore[attr-defined]


async def store_ballots(client: httpx.AsyncClient, voting: Setup, n: int) -> None:
    """n ballots straight into the database, as if residents had voted for weeks."""
    runtime = _runtime(client)
    poll = await runtime.booth.open_poll(voting.poll["id"])
    answers = check_ballot(poll.definition, voting.full_ballot())
    area = voting.areas[0]["id"]
    rows = [
        {
            "poll_id": voting.poll["id"],
            "tracker": secrets.token_hex(16),
            "area_id": area,
            "channel": "online",
            "answers": answers,
        }
        for _ in range(n)
    ]
    async with runtime.db.begin() as session:
        for start in range(0, n, 5000):
            await session.execute(insert(Ballot), rows[start : start + 5000])


@contextlib.asynccontextmanager
async def stall_meter() -> AsyncIterator[list[float]]:
    """The longest the event loop kept a ticking coroutine waiting past its due time."""
    stalls: list[float] = [0.0]
    loop = asyncio.get_running_loop()

    async def tick() -> None:
        while True:
            due = loop.time() + 0.01
            await asyncio.sleep(0.01)
            stalls.append(loop.time() - due)

    ticker = asyncio.create_task(tick())
    try:
        yield stalls
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker


async def test_reconciling_a_big_poll_never_stalls_the_event_loop_and_repairs_a_drifted_tally(
    client: httpx.AsyncClient, voting: Setup, redis: Redis
) -> None:
    await store_ballots(client, voting, BALLOTS)
    tallies: Tallies = _runtime(client).tallies
    assert await tallies.rebuild_all() is not None
    poll_id = voting.poll["id"]
    assert (await tallies.check(poll_id)).agrees
    shown_before = await tallies.read_published(poll_id)
    await redis.hincrby(poll_keys(poll_id)[0], "ballots", 7)  # a counter that drifted
    async with stall_meter() as stalls:
        task = asyncio.create_task(reconcile_forever(tallies, interval=0.2))
        try:
            for _ in range(100):
                await asyncio.sleep(0.1)
                if (await tallies.read(poll_id))["ballots"] == BALLOTS:
                    break
            await asyncio.sleep(1.2)  # and a pass that finds everything in order
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert max(stalls) < MAX_STALL, f"event loop stalled {max(stalls):.3f} s"
    assert (await tallies.check(poll_id)).agrees
    # the repair published nothing new: no step smaller than k
    shown = await tallies.read_published(poll_id)
    assert shown["ballots"] == shown_before["ballots"] == BALLOTS - BALLOTS % voting.poll["secrecy_k"]
    assert await redis.scard(poll_keys(poll_id)[3]) == shown["ballots"]


@dataclass
class Counted:
    """A committed vote as the tallies count it."""

    poll: PollDef
    answers: dict[str, Any]
    area_id: int | None
    tracker: str
    channel: str = "online"


async def commit(client: httpx.AsyncClient, voting: Setup, n: int) -> list[Counted]:
    """A batch of n ballots committed to the database, as an instance's writer does."""
    runtime = _runtime(client)
    poll = (await runtime.booth.open_poll(voting.poll["id"])).definition
    votes = [
        Counted(poll, check_ballot(poll, voting.full_ballot()), voting.areas[0]["id"], secrets.token_hex(16))
        for _ in range(n)
    ]
    rows = [{**vars(v), "poll_id": poll.id} for v in votes]
    for row in rows:
        del row["poll"]
    async with runtime.db.begin() as session:
        await session.execute(insert(Ballot), rows)
    return votes


async def test_votes_counted_by_another_instance_while_a_rebuild_runs_are_neither_lost_nor_counted_twice(
    client: httpx.AsyncClient, voting: Setup, redis: Redis, redis_server: EmbeddedRedis
) -> None:
    await store_ballots(client, voting, BALLOTS)
    tallies: Tallies = _runtime(client).tallies
    assert await tallies.rebuild_all() is not None
    poll_id, k = voting.poll["id"], voting.poll["secrecy_k"]
    other_redis = Redis.from_url(redis_server.url, decode_responses=True)
    other = Tallies(other_redis, tallies.db)  # a second instance, counting its own batches
    try:
        early = await commit(client, voting, 4)  # committed before the rebuild reads, counted after
        rebuild = asyncio.create_task(tallies.rebuild_all())
        for _ in range(1000):  # until the rebuild has begun
            if await redis.exists(REBUILD_LOCK):
                break
            await asyncio.sleep(0.001)
        await other.apply(early)
        committed = len(early)
        while not rebuild.done():
            await other.apply(await commit(client, voting, 3))
            committed += 3
            await asyncio.sleep(0.01)
        assert await rebuild is not None
        later = await commit(client, voting, 5)
        await other.apply(later)
        committed += len(later)
    finally:
        await other_redis.aclose()
    check = await tallies.check(poll_id)
    assert check.ballots == BALLOTS + committed > BALLOTS + 20  # votes kept coming during the rebuild
    assert check.agrees, check.differences
    exact, shown = await tallies.read(poll_id), await tallies.read_published(poll_id)
    assert 0 <= exact["ballots"] - shown["ballots"] < k  # published in whole steps, never ahead
    assert shown["ballots"] == await redis.scard(poll_keys(poll_id)[3])


async def test_a_rebuild_that_lost_its_lock_writes_nothing_live(
    client: httpx.AsyncClient, voting: Setup, redis: Redis
) -> None:
    await store_ballots(client, voting, 12_000)
    tallies: Tallies = _runtime(client).tallies
    poll_id = voting.poll["id"]
    stalled = await Rebuild.take(redis, tallies.db, CHANGED)
    assert stalled is not None
    assert await Rebuild.take(redis, tallies.db, CHANGED) is None  # one rebuild at a time
    first = asyncio.create_task(stalled.run(None))
    for _ in range(1000):  # it has begun: increments now wait on the side list
        if not await redis.exists(PRESENT):
            break
        await asyncio.sleep(0.001)
    await redis.delete(REBUILD_LOCK)  # its lock expired (it stalled past LOCK_TTL)
    await redis.hset(poll_keys(poll_id)[0], "ballots", 3)  # what the live counters held meanwhile
    successor = await Rebuild.take(redis, tallies.db, CHANGED)
    assert successor is not None
    with pytest.raises(Overtaken):
        await first
    assert await redis.hget(poll_keys(poll_id)[0], "ballots") == "3"  # the stale rebuild wrote nothing
    assert await successor.run(None) == {poll_id: 12_000}
    assert (await tallies.check(poll_id)).agrees
    assert await redis.exists(PRESENT) and not await redis.exists(REBUILD_LOCK)
