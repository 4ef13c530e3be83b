"""uvicorn refuses a websocket message longer than any the app reads, before buffering it, and goes on."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosedError

from polls.domain.jury_protocol import MAX_MESSAGE
from polls.live.embedded import EmbeddedRedis
from polls.serving import WS_MAX_SIZE
from polls.settings import Settings
from tests.factories import BALLOT_KEY, SECRET
from tests.servers import AppProcess, free_port
from tests.voting_setup import STEP, Setup, one_step_of_codes, token

MESSAGE_TOO_BIG = 1009


def test_the_limit_lets_through_the_longest_command_the_app_reads() -> None:
    assert WS_MAX_SIZE >= 4 * MAX_MESSAGE  # characters, up to four bytes each in UTF-8
    assert WS_MAX_SIZE == 64 * 1024  # the figure deploy/RUNBOOK.md gives operators


async def refused(url: str) -> None:
    """The largest message allowed goes through; one byte more closes the socket with 1009."""
    async with websockets.connect(url) as socket:
        await asyncio.wait_for(socket.recv(), 2)  # the results so far
        await socket.send("x" * WS_MAX_SIZE)  # read (and ignored) by the app
        await socket.send("é" * (WS_MAX_SIZE // 2 + 1))  # one byte over, in UTF-8
        with pytest.raises(ConnectionClosedError) as closed:
            await asyncio.wait_for(socket.recv(), 2)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == MESSAGE_TOO_BIG


async def refused_then_still_serving(host: str, voting: Setup) -> None:
    url = f"ws://{host}/live/polls/{voting.poll['id']}"
    await refused(url)

    # The server goes on: a new subscriber hears the next step of votes.
    async with websockets.connect(url) as socket:
        await asyncio.wait_for(socket.recv(), 2)
        async with httpx.AsyncClient(base_url=f"http://{host}") as http:
            for issued in one_step_of_codes(voting):
                voted = await http.post(
                    f"/api/polls/{voting.poll['id']}/votes",
                    json={"code": token(issued), "answers": voting.full_ballot()},
                )
                assert voted.status_code == 201, voted.text
        message = json.loads(await asyncio.wait_for(socket.recv(), 2))
        assert message["counts"]["ballots"] == STEP


async def test_the_test_server_refuses_an_oversized_message(live_server: str, voting: Setup) -> None:
    await refused_then_still_serving(live_server, voting)


@pytest.fixture
def served(settings: Settings, redis_server: EmbeddedRedis) -> Iterator[str]:
    """`polls serve` in its own process, on the test's database and Redis."""
    server = AppProcess(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": redis_server.url,
            "SECRET_KEYS": SECRET,
            "BALLOT_KEY": BALLOT_KEY,
            "SECURE_COOKIES": "0",
            "BASE_URL": "http://127.0.0.1",
        }
    )
    server.start()
    try:
        yield server.base_url.removeprefix("http://")
    finally:
        server.stop()


async def test_polls_serve_refuses_an_oversized_message(voting: Setup, served: str) -> None:
    await refused_then_still_serving(served, voting)


@pytest.fixture
def dev_poll(tmp_path: Path) -> Iterator[str]:
    """`polls dev` in its own process: the websocket URL of its demo poll's live results."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEYS")}
    env["POLLS_DATA_DIR"] = str(tmp_path / "var")
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "polls"), "dev", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        found = re.search(rf"Live results: {base}/polls/(\d+)/results", log.read_text())
        assert found, log.read_text()
        yield f"ws://127.0.0.1:{port}/live/polls/{found[1]}"
        assert httpx.get(base + "/healthz", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)  # polls dev stops its embedded redis-server on the way out
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.e2e
async def test_polls_dev_refuses_an_oversized_message(dev_poll: str) -> None:
    await refused(dev_poll)
    async with websockets.connect(dev_poll) as socket:  # still serving
        assert json.loads(await asyncio.wait_for(socket.recv(), 2))["type"] == "results"
