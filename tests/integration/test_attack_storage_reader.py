"""Adversary 3, the storage reader after the fact: database files (with the write-ahead log and
free pages) and Redis (keys and TTLs). Nothing stored may give a vote's time or order, nor pair a
ballot with anything that names its card."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from polls.settings import Settings
from polls.store.db import open_engine, sessions_for, sqlite_file
from tests.voting_setup import Setup, vote


def _size(path: Path) -> int:
    return os.path.getsize(path) if path.exists() else 0


async def _vote_slowly(client: httpx.AsyncClient, voting: Setup, n: int, gap: float) -> None:
    for card in voting.codes["north"][:n]:
        response = await vote(client, voting.poll["id"], card.short_code, voting.full_ballot())
        assert response.status_code == 201, response.text
        await asyncio.sleep(gap)


async def test_spent_markers_in_redis_do_not_give_each_votes_time(
    client: httpx.AsyncClient, voting: Setup, redis: Redis
) -> None:
    await _vote_slowly(client, voting, 4, gap=0.4)
    await asyncio.sleep(0.2)
    keys = [k async for k in redis.scan_iter(f"spent:{voting.poll['id']}:*")]
    assert len(keys) == 4
    ttls = [await redis.pttl(k) for k in keys]
    assert min(ttls) > 0
    # Read within milliseconds of each other: per-vote TTLs would differ by the 0.4 s gaps.
    assert max(ttls) - min(ttls) < 150, f"spent markers' TTLs give the votes' order: {sorted(ttls)}"


async def test_the_write_ahead_log_keeps_no_vote_once_the_writer_is_idle(
    client: httpx.AsyncClient, voting: Setup, settings: Settings
) -> None:
    path = sqlite_file(settings.database_url)
    if path is None:
        pytest.skip("SQLite's write-ahead log")
    wal = Path(path + "-wal")
    for card in voting.codes["north"][:3]:
        response = await vote(client, voting.poll["id"], card.short_code, voting.full_ballot())
        assert response.status_code == 201, response.text
        for _ in range(40):  # the writer truncates the log within a moment of going idle
            if _size(wal) == 0:
                break
            await asyncio.sleep(0.05)
        size = _size(wal)
        assert size == 0, f"the write-ahead log still holds {size} bytes of the last vote's commit"


async def test_sqlite_overwrites_what_it_deletes(settings: Settings) -> None:
    if sqlite_file(settings.database_url) is None:
        pytest.skip("SQLite's free pages")
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine)() as session:
            assert (await session.execute(text("PRAGMA secure_delete"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_vote_transactions_leave_no_mark_on_the_cards_rows(
    client: httpx.AsyncClient, voting: Setup, settings: Settings
) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's transaction ids")
    await _vote_slowly(client, voting, 3, gap=0.0)
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine)() as session:
            card_marks = {
                str(m)
                for row in await session.execute(text("SELECT xmin, xmax FROM voter_codes"))
                for m in row
                if str(m) != "0"
            }
            ballot_marks = {str(r[0]) for r in await session.execute(text("SELECT xmin FROM ballots"))}
            lockers = [str(r[0]) for r in await session.execute(text("SELECT xmax FROM voter_codes"))]
    finally:
        await engine.dispose()
    assert set(lockers) == {"0"}, "a vote's transaction locked its card's row (its id is in xmax)"
    assert not card_marks & ballot_marks
