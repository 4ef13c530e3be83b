"""Live results reach websocket subscribers within a second of each vote, over a real server."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import websockets

from tests.voting_setup import Setup, token


async def test_subscriber_sees_each_new_vote_within_a_second(live_server: str, voting: Setup) -> None:
    poll_id = voting.poll["id"]
    async with (
        websockets.connect(f"ws://{live_server}/live/polls/{poll_id}") as socket,
        httpx.AsyncClient(base_url=f"http://{live_server}") as http,
    ):
        first = json.loads(await asyncio.wait_for(socket.recv(), 2))
        assert first["type"] == "results"
        assert first["results"]["ballots"] == 0
        for n, issued in enumerate(voting.codes["north"][:3], start=1):
            sent = time.monotonic()
            response = await http.post(
                f"/api/polls/{poll_id}/votes",
                json={"code": token(issued), "answers": voting.full_ballot()},
            )
            assert response.status_code == 201
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 1))
                if message["type"] == "counts" and message["counts"].get("ballots") == n:
                    break
            assert time.monotonic() - sent < 1.0


async def test_socket_for_a_poll_whose_results_are_hidden_says_so(
    live_server: str, officer: httpx.AsyncClient, voting: Setup
) -> None:
    from tests.factories import make_poll

    hidden = await make_poll(officer, voting.pilot["id"], results_visibility="after_review")
    await officer.post(f"/api/polls/{hidden['id']}/actions/open")
    async with websockets.connect(f"ws://{live_server}/live/polls/{hidden['id']}") as socket:
        message = json.loads(await asyncio.wait_for(socket.recv(), 2))
        assert message == {"type": "error", "code": "results_not_public"}


async def test_socket_survives_junk_from_the_client(live_server: str, voting: Setup) -> None:
    async with websockets.connect(f"ws://{live_server}/live/polls/{voting.poll['id']}") as socket:
        await asyncio.wait_for(socket.recv(), 2)
        await socket.send("not json at all")
        await socket.send(b"\x00\x01binary")
        await socket.ping()
        async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
            await http.post(
                f"/api/polls/{voting.poll['id']}/votes",
                json={"code": token(voting.codes["north"][0]), "answers": voting.full_ballot()},
            )
        message = json.loads(await asyncio.wait_for(socket.recv(), 2))
        assert message["counts"]["ballots"] == 1
