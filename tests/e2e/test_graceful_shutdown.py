"""Stopping an instance mid-vote (SIGTERM, as Kubernetes and Compose stop a container): every
vote it acknowledged is stored, and its websocket clients are told to reconnect."""

from __future__ import annotations

import asyncio
import json
import signal

import httpx
import pytest
import websockets
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.http.kit.sockets import RESTARTING, RESTARTING_REASON
from polls.settings import Settings
from polls.store.models import Ballot
from tests.e2e.test_jury_room_e2e import make_jury
from tests.factories import SECRET
from tests.servers import AppProcess
from tests.voting_setup import Setup, issue, token

VOTERS = 120


def serve_env(settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEYS": SECRET,
        "BALLOT_KEY": settings.ballot_key,
        "BASE_URL": "http://127.0.0.1",
        "SECURE_COOKIES": "0",
    }


async def _closed(socket: websockets.ClientConnection) -> tuple[int | None, str | None]:
    """Read until the server closes the socket; its close code and reason."""
    try:
        while True:
            await asyncio.wait_for(socket.recv(), 20)
    except websockets.ConnectionClosed as closed:
        received = closed.rcvd
        return (received.code, received.reason) if received else (None, None)


@pytest.mark.e2e
async def test_sigterm_mid_voting_stores_every_acknowledged_vote_and_tells_sockets_to_reconnect(
    voting: Setup, settings: Settings, db: AsyncSession
) -> None:
    poll_id = voting.poll["id"]
    cards = await issue(settings, voting.pilot["id"], voting.areas[0]["id"], VOTERS)
    jury = await make_jury(settings)
    server = AppProcess(serve_env(settings))
    server.start()
    ws = f"ws://127.0.0.1:{server.port}"
    try:
        results = await websockets.connect(f"{ws}/live/polls/{poll_id}")
        room = await websockets.connect(f"{ws}/live/jury-sessions/{jury.session_id}?as=observer")
        assert json.loads(await results.recv())["type"] == "results"
        assert json.loads(await room.recv())["type"] == "welcome"
        watching = [asyncio.create_task(_closed(s)) for s in (results, room)]
        answers = voting.full_ballot()
        async with httpx.AsyncClient(
            base_url=server.base_url, timeout=30, limits=httpx.Limits(max_connections=40)
        ) as http:

            async def vote(n: int) -> httpx.Response | None:
                await asyncio.sleep(n * 0.004)  # a steady stream, so that SIGTERM lands mid-voting
                try:
                    url = f"/api/polls/{poll_id}/votes"
                    return await http.post(url, json={"code": token(cards[n]), "answers": answers})
                except httpx.HTTPError:  # refused once the server stopped listening: not acknowledged
                    return None

            voters = [asyncio.create_task(vote(n)) for n in range(VOTERS)]
            await asyncio.sleep(VOTERS * 0.004 / 3)
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            responses = await asyncio.gather(*voters)
        closes = await asyncio.gather(*watching)
        # uvicorn, once it has shut down cleanly, ends by the signal it was sent.
        assert await asyncio.to_thread(server.process.wait, 30) == -signal.SIGTERM, server.output()
        lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    finally:
        server.stop()
    # `polls serve` logs JSON, one access line per request with its id, uvicorn's lines too.
    assert any(line["event"] == "Application shutdown complete." for line in lines)
    votes = [line for line in lines if line["logger"] == "polls.access" and "votes" in line["event"]]
    assert votes and all(len(line["request_id"]) == 16 for line in votes)
    acknowledged = {r.json()["tracker"] for r in responses if r is not None and r.status_code == 201}
    assert acknowledged, "no vote was acknowledged before the signal"
    assert len(acknowledged) < VOTERS, "the signal came after the voting ended"
    db.expire_all()
    stored = set((await db.execute(select(Ballot.tracker).where(Ballot.poll_id == poll_id))).scalars())
    assert acknowledged <= stored
    assert closes == [(RESTARTING, RESTARTING_REASON)] * 2


@pytest.mark.e2e
async def test_serve_with_two_workers_adds_up_their_metrics_and_drains_both(
    voting: Setup, settings: Settings
) -> None:
    token_ = "metrics-token-for-the-tests-0123456789"
    cards = await issue(settings, voting.pilot["id"], voting.areas[0]["id"], 20)
    server = AppProcess({**serve_env(settings), "METRICS_TOKEN": token_}, args=("--workers", "2"))
    server.start(within=90)  # each worker process imports everything afresh
    try:
        ws = f"ws://127.0.0.1:{server.port}/live/polls/{voting.poll['id']}"
        sockets = [await websockets.connect(ws) for _ in range(6)]  # spread over both workers
        watching = [asyncio.create_task(_closed(s)) for s in sockets]
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            url = f"/api/polls/{voting.poll['id']}/votes"
            answers = voting.full_ballot()
            voted = await asyncio.gather(
                *(http.post(url, json={"code": token(card), "answers": answers}) for card in cards)
            )
            assert [r.status_code for r in voted] == [201] * len(cards)
            assert (await http.get("/metrics")).status_code == 401
            for _ in range(4):  # whichever worker answers, it reports both workers' figures
                text = (await http.get("/metrics", headers={"Authorization": f"Bearer {token_}"})).text
                assert f"polls_votes_accepted_total {float(len(cards))}" in text
                assert 'polls_websocket_connections{kind="live_results"} 6.0' in text
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        closes = await asyncio.gather(*watching)
        await asyncio.to_thread(server.process.wait, 30)
    finally:
        server.stop()
    assert closes == [(RESTARTING, RESTARTING_REASON)] * len(sockets)
