"""`polls tallies check` finds a live tally that drifted from the database; `rebuild` repairs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
from redis.asyncio import Redis

from polls.settings import Settings
from tests.factories import SECRET
from tests.voting_setup import Setup, token, vote

POLLS = str(Path(sys.executable).parent / "polls")


def polls_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEYS": SECRET,
    }
    return subprocess.run([POLLS, *args], env=env, capture_output=True, text=True, timeout=60)


async def test_check_reports_drift_and_rebuild_repairs_it(
    client: httpx.AsyncClient, voting: Setup, settings: Settings, redis: Redis
) -> None:
    for issued in voting.codes["north"][:3]:
        assert (await vote(client, voting.poll["id"], token(issued), voting.full_ballot())).status_code == 201
    poll = str(voting.poll["id"])
    agreed = await asyncio.to_thread(polls_command, settings, "tallies", "check", "--poll", poll)
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert "agree with the database (3 ballots)" in agreed.stdout

    await redis.hincrby(f"tally:{poll}", "ballots", 5)  # as if an increment had been applied twice
    drifted = await asyncio.to_thread(polls_command, settings, "tallies", "check")
    assert drifted.returncode == 1
    assert "ballots: redis 8, database 3" in drifted.stdout

    rebuilt = await asyncio.to_thread(polls_command, settings, "tallies", "rebuild", "--poll", poll)
    assert rebuilt.returncode == 0
    assert await redis.hget(f"tally:{poll}", "ballots") == "3"


async def test_reconciliation_repairs_a_tally_that_stays_wrong(
    client: httpx.AsyncClient, voting: Setup, redis: Redis
) -> None:
    from polls.live.tallies import reconcile_forever

    assert (
        await vote(client, voting.poll["id"], token(voting.codes["north"][0]), voting.full_ballot())
    ).status_code == 201
    await redis.hincrby(f"tally:{voting.poll['id']}", "ballots", 7)
    tallies = client._transport.app.state.runtime.tallies  # type: ignore[attr-defined]
    task = asyncio.create_task(reconcile_forever(tallies, interval=0.2))
    try:
        for _ in range(50):
            await asyncio.sleep(0.1)
            if await redis.hget(f"tally:{voting.poll['id']}", "ballots") == "1":
                break
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await redis.hget(f"tally:{voting.poll['id']}", "ballots") == "1"
