"""Live results reach websocket subscribers within a second of each step of k votes, over a real
server (tests/e2e/test_attack_public_observer.py shows that nothing smaller than a step does)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import websockets

from tests.voting_setup import STEP, Setup, one_step_of_codes, token


async def test_subscriber_sees_a_step_within_a_second_of_its_last_vote(
    live_server: str, voting: Setup
) -> None:
    poll_id = voting.poll["id"]
    async with (
        websockets.connect(f"ws://{live_server}/live/polls/{poll_id}") as socket,
        httpx.AsyncClient(base_url=f"http://{live_server}") as http,
    ):
        first = json.loads(await asyncio.wait_for(socket.recv(), 2))
        assert first["type"] == "results"
        assert (first["results"]["ballots"], first["results"]["updates_every"]) == (0, STEP)
        for issued in one_step_of_codes(voting):
            sent = time.monotonic()
            response = await http.post(
                f"/api/polls/{poll_id}/votes",
                json={"code": token(issued), "answers": voting.full_ballot()},
            )
            assert response.status_code == 201
        message = json.loads(await asyncio.wait_for(socket.recv(), 1))
        assert message["type"] == "counts" and message["counts"]["ballots"] == STEP
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
            for issued in one_step_of_codes(voting):
                await http.post(
                    f"/api/polls/{voting.poll['id']}/votes",
                    json={"code": token(issued), "answers": voting.full_ballot()},
                )
        message = json.loads(await asyncio.wait_for(socket.recv(), 2))
        assert message["counts"]["ballots"] == STEP
