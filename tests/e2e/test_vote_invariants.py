"""The invariants, proven against real servers: one vote per code across two app processes,
and tallies that converge on the database after Redis loses everything mid-vote."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polls.app import create_app
from polls.live.embedded import EmbeddedRedis
from polls.settings import Settings
from polls.store.models import Ballot, Nullifier
from tests.conftest import count
from tests.factories import SECRET
from tests.servers import AppProcess, free_port
from tests.voting_setup import Setup, settled_tallies, token


@pytest.mark.e2e
async def test_two_hundred_concurrent_votes_with_one_code_over_two_processes_count_once(
    voting: Setup, settings: Settings, db: AsyncSession
) -> None:
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEYS": SECRET,
        "BALLOT_KEY": settings.ballot_key,
        "BASE_URL": "http://127.0.0.1",
        "SECURE_COOKIES": "0",
    }
    servers = [AppProcess(env), AppProcess(env)]
    for server in servers:
        server.start()
    try:
        credential = token(voting.codes["north"][0])
        body = {"code": credential, "answers": voting.full_ballot()}
        limits = httpx.Limits(max_connections=100)
        async with (
            httpx.AsyncClient(base_url=servers[0].base_url, limits=limits, timeout=30) as one,
            httpx.AsyncClient(base_url=servers[1].base_url, limits=limits, timeout=30) as two,
        ):
            url = f"/api/polls/{voting.poll['id']}/votes"
            attempts = [c.post(url, json=body) for _ in range(100) for c in (one, two)]
            responses = await asyncio.gather(*attempts)
    finally:
        for server in servers:
            server.stop()
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 199
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"code_already_used"}
    assert await count(db, Ballot) == 1
    assert await count(db, Nullifier) == 1


@pytest.mark.e2e
async def test_redis_restart_mid_vote_loses_nothing_and_tallies_converge(
    voting: Setup, settings: Settings, db: AsyncSession, tmp_path: Path
) -> None:
    port = free_port()
    own_redis = EmbeddedRedis(tmp_path / "redis", port=port, persistent=False)  # a restart loses everything
    own_redis.start()
    isolated = Settings(
        database_url=settings.database_url,
        redis_url=own_redis.url,
        secret_keys=settings.secret_keys,
        data_dir=tmp_path,
        ballot_key=settings.ballot_key,
    )
    app = create_app(isolated, run_scheduler=False)
    acknowledged = 0
    outcomes: list[int] = []
    codes = iter(voting.codes["north"] + voting.codes_for_restart)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:

                async def cast() -> int:
                    issued = next(codes)
                    response = await http.post(
                        f"/api/polls/{voting.poll['id']}/votes",
                        json={"code": token(issued), "answers": voting.full_ballot()},
                    )
                    assert response.status_code in (201, 503), response.text
                    return response.status_code

                for _ in range(3):
                    outcomes.append(await cast())
                await asyncio.to_thread(own_redis.stop)
                for _ in range(3):
                    outcomes.append(await cast())  # Redis is down: the database alone decides
                await asyncio.to_thread(own_redis.start)
                for _ in range(3):
                    outcomes.append(await cast())
                acknowledged = outcomes.count(201)
                check = await settled_tallies(app.state.runtime, voting.poll["id"])
                assert check.agrees, check.differences
                assert check.ballots == acknowledged
                live = await app.state.runtime.tallies.read(voting.poll["id"])
                assert live["ballots"] == acknowledged
    finally:
        own_redis.stop()
    assert acknowledged >= 6  # before and after the outage every vote went through
    assert await count(db, Ballot) == acknowledged
