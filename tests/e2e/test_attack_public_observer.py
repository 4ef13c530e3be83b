"""Adversary 1, the public observer, over a real websocket under uvicorn: residents vote one at a
time while the observer holds the public live-results socket open and diffs every message it
gets. Each message must cover at least k new ballots; closing publishes the rest."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import websockets

from polls.settings import Settings
from tests.factories import make_pilot, make_poll
from tests.voting_setup import issue, token, vote

K = 5  # the smallest step a poll may set
VOTERS = 2 * K + 3


async def _messages(socket: Any, within: float) -> list[dict[str, Any]]:
    """Every message the socket brings within ``within`` seconds."""
    got = []
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.append(json.loads(await asyncio.wait_for(socket.recv(), left)))
        except TimeoutError:
            break
    return got


async def test_socket_watcher_sees_only_steps_of_k_ballots_and_the_rest_at_close(
    live_server: str, officer: httpx.AsyncClient, settings: Settings
) -> None:
    pilot = await make_pilot(officer)
    area = (
        await officer.post(f"/api/pilots/{pilot['id']}/areas", json={"name": "North", "code": "N1"})
    ).json()
    poll = await make_poll(officer, pilot["id"], results_visibility="live", secrecy_k=K)
    poll_id, question = poll["id"], str(poll["questions"][0]["id"])
    options = [o["id"] for o in poll["questions"][0]["options"]]
    assert (await officer.post(f"/api/polls/{poll_id}/actions/open")).status_code == 200
    codes = await issue(settings, pilot["id"], area["id"], VOTERS)
    async with (
        websockets.connect(f"ws://{live_server}/live/polls/{poll_id}") as socket,
        httpx.AsyncClient(base_url=f"http://{live_server}") as http,
    ):
        first = json.loads(await asyncio.wait_for(socket.recv(), 2))
        assert first["results"]["ballots"] == 0
        assert first["results"]["updates_every"] == K
        assert f"every {K} votes" in first["results"]["note"]  # a quiet poll says why it is quiet
        seen = 0
        for n, issued in enumerate(codes, start=1):
            response = await vote(http, poll_id, token(issued), {question: options[n % 2]})
            assert response.status_code == 201, response.text
            # Long enough for a per-ballot update (they came within ~100 ms before the fix).
            for message in await _messages(socket, 0.4 if n % K else 2.0):
                assert message["type"] == "counts"
                step = message["counts"]["ballots"] - seen
                assert step >= K, f"an update covering {step} ballot(s): the observer can attribute them"
                seen = message["counts"]["ballots"]
            assert seen == n - n % K  # every step arrived, and only steps
        assert (await officer.post(f"/api/polls/{poll_id}/actions/close")).status_code == 200
        last = await _messages(socket, 2.0)
        assert last and last[-1]["counts"]["ballots"] == VOTERS
