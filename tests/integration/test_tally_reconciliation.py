"""Reconciling and rebuilding the live tallies of a big poll without stalling the instance
(issue 15: once a minute an instance froze 1-2 s while reconciliation loaded every ballot)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import insert

from polls.domain.ballots import check_ballot
from polls.live.tallies import Tallies, poll_keys, reconcile_forever
from polls.store.models import Ballot
from tests.voting_setup import Setup

BALLOTS = 40_000
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
