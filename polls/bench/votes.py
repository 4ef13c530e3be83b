"""`polls bench votes`: acknowledged votes per second and latency, against a bare Starlette endpoint.

One run: build a throwaway embedded set-up (SQLite file, a real redis-server), issue codes, start
the app under uvicorn (one worker), drive voters at it from a separate load process over real
HTTP while a websocket subscriber times live tally updates, verify the invariants (stored ballots
= acknowledged votes, no duplicates, Redis tallies = database counts), then drive the same load at
a bare Starlette JSON endpoint and print both, their ratio, and one final JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from polls.domain.access import Actor
from polls.domain.pilots import AreaSpec, PilotSpec
from polls.domain.polls import Action, NewPollSpec
from polls.domain.validation import parse
from polls.live.embedded import EmbeddedRedis
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.codes import issue_codes
from polls.store.db import open_engine, sessions_for
from polls.store.migrate import upgrade
from polls.store.staff import create_staff
from polls.tokens import VOTER_CODE, Tokens

TARGETS = {"votes_per_second": 3000, "p99_ms": 100, "ratio": 0.4, "tally_p99_ms": 250}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _seed(
    database_url: str, codes: int, ballot_key: str
) -> tuple[int, list[str], list[dict[str, Any]]]:
    engine = open_engine(database_url, ballot_key=ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            staff = await create_staff(
                session,
                email="bench@polls.example",
                name="Bench",
                password=secrets.token_urlsafe(16),
                site_admin=True,
                actor="bench",
            )
            actor = Actor(staff.id, staff.email, staff.name, is_site_admin=True)
            pilot = await pilot_store.create_pilot(
                session,
                actor,
                parse(
                    PilotSpec,
                    {
                        "name": "Bench Borough",
                        "region": "Bench",
                        "council": "Bench Council",
                        "starts_on": "2026-01-01",
                        "ends_on": "2027-12-31",
                        "contact_email": "bench@polls.example",
                    },
                ),
            )
            area = await pilot_store.add_area(
                session, actor, pilot.id, parse(AreaSpec, {"name": "All", "code": "A1"})
            )
            poll = await poll_store.create_poll(
                session,
                actor,
                pilot.id,
                parse(
                    NewPollSpec,
                    {
                        "title": "Benchmark poll",
                        "results_visibility": "live",
                        "questions": [
                            {
                                "kind": "single",
                                "title": "Pick one",
                                "options": [{"label": f"Option {i}"} for i in range(4)],
                            },
                            {
                                "kind": "multiple",
                                "title": "Pick up to three",
                                "max_choices": 3,
                                "options": [{"label": f"Choice {i}"} for i in range(5)],
                            },
                            {"kind": "scale", "title": "How much?", "scale_min": 1, "scale_max": 5},
                        ],
                    },
                ),
            )
            await poll_store.transition(session, actor, poll.id, Action.OPEN)
            batch = await issue_codes(session, actor, pilot.id, area.id, codes)
            questions = [
                {"id": q.id, "kind": q.kind, "options": [o.id for o in q.options]} for q in poll.questions
            ]
            return poll.id, [c.reference for c in batch.codes], questions
    finally:
        await engine.dispose()


def _ballot(questions: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    single, multiple, scale = questions
    return {
        str(single["id"]): rng.choice(single["options"]),
        str(multiple["id"]): rng.sample(multiple["options"], rng.randint(1, 3)),
        str(scale["id"]): rng.randint(1, 5),
    }


def _wait_healthy(port: int, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("benchmark server exited at start")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("benchmark server did not start")


def _start(kind: str, port: int, env_file: Path | None = None) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "polls.bench.servers", kind, str(port)]
    if env_file is not None:
        args.append(str(env_file))
    process = subprocess.Popen(
        args, stdout=None if os.environ.get("POLLS_BENCH_PROFILE") else subprocess.DEVNULL
    )
    _wait_healthy(port, process, "/healthz" if kind == "app" else "/")
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _load(port: int, bodies_file: Path, concurrency: int, watch_poll: int | None) -> dict[str, Any]:
    config = {
        "host": "127.0.0.1",
        "port": port,
        "path": "/api/polls/{}/votes",
        "bodies_file": str(bodies_file),
        "concurrency": concurrency,
        "watch_poll": watch_poll,
        "ws_url": f"ws://127.0.0.1:{port}",
    }
    return config


def _run_load(config: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "polls.bench.load"],
        input=json.dumps(config).encode(),
        capture_output=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def _verify(database_url: str, redis_url: str, poll_id: int) -> dict[str, Any]:
    from redis.asyncio import Redis
    from sqlalchemy import func, select

    from polls.live.tallies import Tallies
    from polls.store.models import Ballot, Nullifier

    engine = open_engine(database_url)  # counting only: no ballot key needed
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        db = sessions_for(engine)
        async with db() as session:
            ballots = (
                await session.execute(select(func.count()).where(Ballot.poll_id == poll_id))
            ).scalar_one()
            nullifiers = (
                await session.execute(select(func.count()).where(Nullifier.poll_id == poll_id))
            ).scalar_one()
        check = await Tallies(redis, db).check(poll_id)
        return {"ballots": ballots, "nullifiers": nullifiers, "tally_differences": len(check.differences)}
    finally:
        await redis.aclose()
        await engine.dispose()


def run(votes: int = 30_000, concurrency: int = 200, warmup: int = 2_000) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="polls-bench-"))
    redis = EmbeddedRedis(workdir / "redis")
    try:
        database_url = f"sqlite+aiosqlite:///{workdir / 'polls.sqlite3'}"
        upgrade(database_url)
        redis.start()
        print(f"issuing {votes + warmup:,} codes ...", file=sys.stderr, flush=True)
        ballot_key = secrets.token_urlsafe(32)
        poll_id, references, questions = asyncio.run(_seed(database_url, votes + warmup, ballot_key))
        key = secrets.token_urlsafe(32)
        tokens = Tokens((key,))
        rng = random.Random(7)
        bodies = [
            json.dumps({"code": tokens.sign(VOTER_CODE, ref), "answers": _ballot(questions, rng)}).encode()
            for ref in references
        ]
        warm_file, bodies_file = workdir / "warmup.jsonl", workdir / "votes.jsonl"
        warm_file.write_bytes(b"\n".join(bodies[:warmup]) + b"\n")
        bodies_file.write_bytes(b"\n".join(bodies[warmup:]) + b"\n")
        env_file = workdir / "env.json"
        env_file.write_text(
            json.dumps(
                {
                    "DATABASE_URL": database_url,
                    "REDIS_URL": redis.url,
                    "SECRET_KEYS": key,
                    "BALLOT_KEY": ballot_key,
                    "POLLS_DATA_DIR": str(workdir),
                }
            )
        )

        port = _free_port()
        app = _start("app", port, env_file)
        try:
            path = f"/api/polls/{poll_id}/votes"
            warm = _load(port, warm_file, concurrency, None) | {"path": path}
            _run_load(warm)
            print(f"voting: {votes:,} voters, {concurrency} at a time ...", file=sys.stderr, flush=True)
            measured = _run_load(_load(port, bodies_file, concurrency, poll_id) | {"path": path})
        finally:
            _stop(app)
        checks = asyncio.run(_verify(database_url, redis.url, poll_id))

        print("bare Starlette endpoint, same load ...", file=sys.stderr, flush=True)
        port = _free_port()
        bare = _start("bare", port)
        try:
            _run_load(_load(port, warm_file, concurrency, None) | {"path": path})
            baseline = _run_load(_load(port, bodies_file, concurrency, None) | {"path": path})
        finally:
            _stop(bare)
    finally:
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    acknowledged = measured["acknowledged"] + warmup
    figures = {
        "benchmark": "votes",
        "voters": votes,
        "concurrency": concurrency,
        "votes_per_second": measured["per_second"],
        "p50_ms": measured["p50_ms"],
        "p99_ms": measured["p99_ms"],
        "bare_per_second": baseline["per_second"],
        "bare_p50_ms": baseline["p50_ms"],
        "bare_p99_ms": baseline["p99_ms"],
        "ratio": round(measured["per_second"] / baseline["per_second"], 3)
        if baseline["per_second"]
        else None,
        "tally_p50_ms": measured["tally_p50_ms"],
        "tally_p99_ms": measured["tally_p99_ms"],
        "refused": {k: v for k, v in measured["statuses"].items() if not k.startswith("2")},
        "stored_ballots": checks["ballots"],
        "acknowledged": acknowledged,
        "lost": acknowledged - checks["ballots"],
        "duplicated": checks["ballots"] - checks["nullifiers"],
        "tallies_match_database": checks["tally_differences"] == 0,
        "cpus": os.cpu_count(),
    }
    return figures


def report(figures: dict[str, Any]) -> str:
    f = figures
    rows = [
        ("polls (votes)", f["votes_per_second"], f["p50_ms"], f["p99_ms"]),
        ("bare Starlette", f["bare_per_second"], f["bare_p50_ms"], f["bare_p99_ms"]),
    ]
    lines = [f"{'':24}{'votes/s':>10}{'p50 ms':>10}{'p99 ms':>10}"]
    lines += [f"{name:24}{rate:>10}{p50:>10}{p99:>10}" for name, rate, p50, p99 in rows]
    lines.append(f"ratio to bare: {f['ratio']}")
    lines.append(
        f"live tally, acknowledgement to subscriber: p50 {f['tally_p50_ms']} ms, p99 {f['tally_p99_ms']} ms"
    )
    lines.append(
        f"acknowledged {f['acknowledged']}, stored {f['stored_ballots']}, lost {f['lost']}, "
        f"duplicated {f['duplicated']}, tallies match database: {f['tallies_match_database']}"
    )
    lines.append(json.dumps(figures))
    return "\n".join(lines)
