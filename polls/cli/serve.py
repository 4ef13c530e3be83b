"""`polls dev` and `polls serve`: run the service, locally with a demo pilot or in production."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from polls.demo import DemoInfo
from polls.domain.codes import format_short_code
from polls.settings import Settings, from_environment
from polls.tokens import VOTER_CODE, Tokens


def add_parsers(commands: Any) -> None:
    dev = commands.add_parser("dev", help="run locally: SQLite, embedded Redis, demo pilot")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.set_defaults(run=run)

    serve = commands.add_parser(
        "serve", help="run in production (needs DATABASE_URL, REDIS_URL, SECRET_KEYS, BALLOT_KEY, BASE_URL)"
    )
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="believe X-Forwarded-* from the proxies in TRUSTED_PROXIES (default 127.0.0.1)",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes sharing the port (default 1)")
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.command == "dev":
        return run_dev(args.host, args.port)
    return run_serve(args.host, args.port, args.proxy_headers, max(1, args.workers))


def run_dev(host: str, port: int) -> int:
    from polls import logs, serving
    from polls.app import create_app
    from polls.store.migrate import upgrade

    settings = from_environment(production=False)
    logs.configure("text")
    if "BASE_URL" not in os.environ:
        # Every link handed out (cards, QR codes, CSVs, invitations) must reach this server.
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
        settings = dataclasses.replace(settings, base_url=f"http://{shown}:{port}")
    upgrade(settings.database_url)
    base = settings.base_url
    info, jurors = asyncio.run(_seed(settings, base))
    print(_welcome(settings, base, info, jurors), flush=True)
    app = create_app(settings)
    serving.tune_runtime()
    serving.run(serving.config(app, host=host, port=port))
    return 0


def _welcome(settings: Settings, base: str, info: DemoInfo, jurors: list[tuple[str, str]]) -> str:
    """What `polls dev` prints first: where to sign in, codes to vote with, the jury room's links."""
    tokens = Tokens(settings.secret_keys)
    votes = "\n".join(
        f"    {format_short_code(short)}   {base}/v/{tokens.sign(VOTER_CODE, short)}"
        for _, short in info.codes
    )
    return (
        f"\n  polls is starting at {base}\n"
        f"  Demo pilot: {base}/council/pilots/{info.pilot_id}\n"
        f"  Sign in at {base}/sign-in as {info.email} / {info.password}\n\n"
        f"  Vote in the demo poll as a resident: type a code at {base}/vote or open its link\n"
        f"{votes}\n"
        f"  Live results: {base}/polls/{info.poll_id}/results\n"
        f"  Emails and text messages the service sends arrive at {base}/dev/messages\n"
        f"  Replacing a lost card needs the returning officer's private key: DEMO ONLY, it is in\n"
        f"    {info.officer_key_file} (a real council keeps it offline)\n\n"
        f"  Citizens' jury session, ready to run (open them side by side):\n"
        f"    moderator console (signed in): {base}/council/jury-sessions/{info.jury_session_id}\n"
        + "".join(f"    {'juror ' + name + ':':31}{link}\n" for name, link in jurors)
        + f"    observers (public):            {base}/jury-sessions/{info.jury_session_id}\n\n"
        f"  Data lives in {settings.data_dir}/ (delete it to start afresh). Ctrl-C stops everything.\n"
    )


async def _seed(settings: Settings, base: str) -> tuple[DemoInfo, list[tuple[str, str]]]:
    """The demo (seeded once), fresh voting codes, and two demo jurors' room links."""
    from polls import demo
    from polls.demo.jury import demo_room_links
    from polls.store.db import open_engine, sessions_for

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            info = await demo.seed(session)
            jurors = await demo_room_links(session, Tokens(settings.secret_keys), base, info.jury_id)
            return await demo.fresh_codes(session, info, settings.data_dir), jurors[:2]
    finally:
        await engine.dispose()


def run_serve(host: str, port: int, proxy_headers: bool, workers: int = 1) -> int:
    from polls import logs, serving

    settings = from_environment(production=True)  # a configuration problem stops us here, once
    if workers > 1 or os.environ.get(METRICS_DIR):
        _metrics_dir()  # before anything imports prometheus_client
    logs.configure("json")
    app: Starlette | str = "polls.cli.serve:production_app" if workers > 1 else production_app(settings)
    serving.tune_runtime()
    proxies = settings.trusted_proxies if proxy_headers else ()
    config = serving.config(app, host=host, port=port, trusted_proxies=proxies, workers=workers)
    serving.run(config)
    return 0


def production_app(settings: Settings | None = None) -> Starlette:
    """The app of `polls serve`; each worker process builds its own (uvicorn imports this by name)."""
    from polls import logs, serving
    from polls.app import create_app

    if settings is None:  # in a worker: set up as the command set up the first process
        settings = from_environment(production=True)
        logs.configure("json")
        serving.tune_runtime()
    return create_app(settings)


METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def _metrics_dir() -> None:
    """Where the workers write their figures for /metrics to add up: the operator's directory,
    emptied of an earlier run's files, or a fresh one removed on exit."""
    given = os.environ.get(METRICS_DIR)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return
    made = tempfile.mkdtemp(prefix="polls-metrics-")
    os.environ[METRICS_DIR] = made
    atexit.register(shutil.rmtree, made, ignore_errors=True)
