"""Adversary: an address spoofer. Reaches the app directly (not through the proxy) and sends a
new X-Forwarded-For with each password guess, so the per-address sign-in limit never fills.
Only the configured proxy addresses (TRUSTED_PROXIES, 127.0.0.1 unless set) are believed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis

from polls import serving
from polls.app import create_app
from polls.settings import Settings, SettingsError, from_environment
from tests.servers import free_port

pytestmark = pytest.mark.e2e

SPOOFER = "127.0.0.9"  # the adversary's own address: not a trusted proxy


@contextlib.asynccontextmanager
async def serving_behind_a_proxy(settings: Settings) -> AsyncIterator[str]:
    """The app as `polls serve --proxy-headers` runs it, on loopback."""
    port = free_port()
    app = create_app(settings, run_scheduler=False)
    server = uvicorn.Server(
        serving.config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            trusted_proxies=settings.trusted_proxies,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _guess(http: httpx.AsyncClient, n: int, forwarded_for: str) -> int:
    response = await http.post(
        "/api/session",
        json={"email": f"nobody{n}@council.example", "password": "a guess"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


async def test_forwarded_for_from_an_untrusted_sender_is_ignored(settings: Settings, redis: Redis) -> None:
    async with serving_behind_a_proxy(settings) as base:
        transport = httpx.AsyncHTTPTransport(local_address=SPOOFER)
        async with httpx.AsyncClient(base_url=base, transport=transport) as http:
            statuses = [
                await _guess(http, n, f"203.0.113.{n}") for n in range(settings.signin_address_attempts + 1)
            ]
    assert statuses[-1] == 429, statuses
    assert await redis.exists(f"throttle:signin:ip:{SPOOFER}")
    assert not await redis.keys("throttle:signin:ip:203.0.113.*")


async def test_forwarded_for_from_the_trusted_proxy_is_believed(settings: Settings, redis: Redis) -> None:
    async with serving_behind_a_proxy(settings) as base, httpx.AsyncClient(base_url=base) as http:
        assert await _guess(http, 0, "198.51.100.7") == 401
    assert await redis.exists("throttle:signin:ip:198.51.100.7")


@pytest.mark.parametrize("raw", ["*", "127.0.0.1,*", "the proxy"])
def test_trusting_everyone_or_a_name_is_a_configuration_problem(raw: str) -> None:
    env = {"TRUSTED_PROXIES": raw, "BALLOT_KEY": "k" * 32, "SECRET_KEYS": "s" * 16}
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        from_environment(env, production=False)


def test_trusted_proxies_default_to_this_machine_only() -> None:
    assert from_environment(
        {"BALLOT_KEY": "k" * 32, "SECRET_KEYS": "s" * 16}, production=False
    ).trusted_proxies == ("127.0.0.1",)
