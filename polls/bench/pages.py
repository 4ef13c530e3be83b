"""`polls bench pages`: what the resident's pages weigh and how soon they show on a slow phone.

The demo pilot is served as `polls serve` serves it (a uvicorn process on SQLite and an embedded
Redis); Chromium (the system's, driven by Playwright: `pip install -e '.[dev]'`) opens each
resident page with an empty cache under DevTools' "Fast 3G" (562.5 ms round trips, 1.44 Mbit/s
down, 675 kbit/s up) and reports the bytes that crossed the network (compressed, with headers)
and the first contentful paint. The voting journey (the card's link, the ballot, the review, the
receipt) is also measured as one first visit, the cache filling as it goes. The last line is the
figures as JSON.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from polls.bench.postgres import free_port
from polls.bench.topology import start_bench_server, stop
from polls.live.embedded import EmbeddedRedis
from polls.store.db import open_engine, sessions_for
from polls.store.migrate import upgrade
from polls.tokens import VOTER_CODE, Tokens

FAST_3G = {"offline": False, "latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375}
BUDGET_KB = 100  # the voting journey's first visit, all requests together
BROWSERS = ("chromium", "chromium-browser")


async def _seed(database_url: str, data_dir: Path, key: str, ballot_key: str) -> dict[str, Any]:
    from polls import demo

    engine = open_engine(database_url, ballot_key=ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            info = await demo.fresh_codes(session, await demo.seed(session), data_dir)
    finally:
        await engine.dispose()
    links = [f"/v/{Tokens((key,)).sign(VOTER_CODE, short)}" for _, short in info.codes]
    return {"poll": info.poll_id, "links": links}


async def _measure(page: Any, cdp: Any, url: str | None, then: Any = None) -> dict[str, Any]:
    """Bytes over the network and first contentful paint of one page load: a visit to ``url``,
    or what ``then`` (a click that posts a form) leads to."""
    sizes: dict[str, int] = {}

    def finished(event: dict[str, Any]) -> None:
        sizes[event["requestId"]] = int(event["encodedDataLength"])

    cdp.on("Network.loadingFinished", finished)
    if url is not None:
        await page.goto(url, wait_until="load")
    else:
        async with page.expect_navigation(wait_until="load"):
            await then()
    await page.wait_for_load_state("networkidle")
    paint = await page.evaluate(
        "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"
    )
    cdp.remove_listener("Network.loadingFinished", finished)
    return {
        "requests": len(sizes),
        "kb": round(sum(sizes.values()) / 1024, 1),
        "fcp_ms": round(paint) if paint is not None else None,
    }


async def _slow_page(browser: Any) -> tuple[Any, Any, Any]:
    context = await browser.new_context(viewport={"width": 360, "height": 640})
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    await cdp.send("Network.emulateNetworkConditions", FAST_3G)
    return context, page, cdp


async def _browse(base: str, seeded: dict[str, Any]) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    executable = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    ballot = f"{seeded['links'][0]}/polls/{seeded['poll']}"
    pages = {
        "front page": "/",
        "enter your code": "/vote",
        "your polls": seeded["links"][1],
        "ballot": f"{seeded['links'][1]}/polls/{seeded['poll']}",
        "results": f"/polls/{seeded['poll']}/results",
    }
    figures: dict[str, Any] = {"pages": {}}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        for name, path in pages.items():  # each with an empty cache: a first visit
            context, page, cdp = await _slow_page(browser)
            figures["pages"][name] = await _measure(page, cdp, base + path)
            await context.close()
        context, page, cdp = await _slow_page(browser)
        steps = [
            await _measure(page, cdp, base + seeded["links"][0]),
            await _measure(page, cdp, base + ballot),
        ]
        await page.get_by_role("radio").first.check()
        steps.append(
            await _measure(page, cdp, None, page.get_by_role("button", name="Check your answers").click)
        )
        steps.append(await _measure(page, cdp, None, page.get_by_role("button", name="Send my vote").click))
        await context.close()
        await browser.close()
    figures["journey"] = {
        "steps": ["your polls", "ballot", "review", "receipt"],
        "kb": round(sum(s["kb"] for s in steps), 1),
        "requests": sum(s["requests"] for s in steps),
        "fcp_ms": [s["fcp_ms"] for s in steps],
    }
    return figures


def run() -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="polls-bench-pages-"))
    redis = EmbeddedRedis(workdir / "redis")
    figures: dict[str, Any] = {"benchmark": "pages", "network": "Fast 3G", **FAST_3G}
    try:
        database_url = f"sqlite+aiosqlite:///{workdir / 'polls.sqlite3'}"
        upgrade(database_url)
        redis.start()
        key, ballot_key, port = secrets.token_urlsafe(32), secrets.token_urlsafe(32), free_port()
        seeded = asyncio.run(_seed(database_url, workdir, key, ballot_key))
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis.url,
            "SECRET_KEYS": key,
            "BALLOT_KEY": ballot_key,
            "POLLS_DATA_DIR": str(workdir),
            "BASE_URL": f"http://127.0.0.1:{port}",
        }
        (workdir / "env.json").write_text(json.dumps(env))
        print("serving the demo pilot; Chromium on emulated Fast 3G ...", file=sys.stderr, flush=True)
        app = start_bench_server("app", port, workdir / "env.json")
        try:
            figures |= asyncio.run(_browse(env["BASE_URL"], seeded))
        finally:
            stop(app)
    finally:
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    figures["budget_kb"] = BUDGET_KB
    figures["met"] = figures["journey"]["kb"] <= BUDGET_KB
    return figures


def report(figures: dict[str, Any]) -> str:
    lines = [f"{'first visit, Fast 3G':24}{'requests':>9}{'KB':>8}{'FCP ms':>8}"]
    for name, f in figures["pages"].items():
        lines.append(f"{name:24}{f['requests']:>9}{f['kb']:>8}{f['fcp_ms'] or '-':>8}")
    j = figures["journey"]
    lines.append(f"{'voting journey':24}{j['requests']:>9}{j['kb']:>8}{'':>8}")
    verdict = "met" if figures["met"] else "NOT met"
    lines.append(f"budget: the voting journey within {figures['budget_kb']} KB: {verdict}")
    lines.append(json.dumps(figures))
    return "\n".join(lines)
