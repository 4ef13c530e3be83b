"""In a real browser (headless Chromium, driven over the DevTools protocol): the juror's page
follows the room's websocket and sends its commands on it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from polls.settings import Settings
from tests.e2e.test_jury_room_e2e import Jury4, connect, make_jury, moderator_cookie
from tests.servers import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BUTTONS = "[...document.querySelectorAll('form.js-command button')]"
STATUS = "document.getElementById('room-status').textContent"


def button(label: str) -> str:
    return f"{BUTTONS}.find(b => b.textContent.trim() === {json.dumps(label)})"


class Browser:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
            if message.get("id") == call_id:
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return reply["result"].get("value")

    async def wait_for(self, expression: str, expected: Any, seconds: float = 8) -> None:
        for _ in range(int(seconds * 10)):
            if await self.evaluate(expression) == expected:
                return
            await asyncio.sleep(0.1)
        assert await self.evaluate(expression) == expected


async def _page_socket(port: int) -> str:
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
                pages = [t for t in targets if t["type"] == "page"]
                if pages:
                    url: str = pages[0]["webSocketDebuggerUrl"]
                    return url
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("Chromium did not open its debugging port")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    port = free_port()
    # Chromium's helper processes may still be writing the profile when the main one has exited.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "about:blank",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so its helpers stop with it
        )
        try:
            async with websockets.connect(await _page_socket(port), max_size=None) as socket:
                yield Browser(socket)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            await process.wait()


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="Chromium is not installed")
async def test_juror_page_follows_the_room_and_raises_a_hand_over_the_socket(
    live_server: str, settings: Settings, browser: Browser
) -> None:
    jury: Jury4 = await make_jury(settings)
    ann = jury.jurors[0]
    cookie = await moderator_cookie(live_server)
    async with connect(live_server, jury.session_id, cookie=cookie) as mod:
        await mod.joined()
        await browser.call("Page.enable")
        await browser.call(
            "Page.navigate", url=f"http://{live_server}/juries/{jury.jury_id}/room/{jury.tokens[ann]}"
        )
        await browser.wait_for(STATUS, "Not started")
        await asyncio.sleep(0.5)  # the page opens its socket once loaded
        await mod.send({"type": "start_session"})
        await browser.wait_for(STATUS, "Live")
        click = f"(b => b ? (b.click(), true) : false)({button('Raise my hand')})"
        assert await browser.evaluate(click) is True
        raised = await mod.until("event")
        while raised["event"]["type"] != "hand_raised":
            raised = await mod.until("event")
        assert raised["state"]["queue"] == [{"juror": ann, "name": "Ann"}]
        await browser.wait_for(f"Boolean({button('Lower my hand')})", True)
        assert (
            await browser.evaluate("location.pathname") == f"/juries/{jury.jury_id}/room/{jury.tokens[ann]}"
        )
