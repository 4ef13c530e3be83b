"""`polls bench votes`: acknowledged votes per second and latency, against a bare Starlette endpoint.

One run: build a throwaway embedded set-up (SQLite file, a real redis-server), issue codes, and
start the app under uvicorn (one worker) and a bare Starlette JSON endpoint beside it. Then, in
each of a few rounds, drive fresh voters at the app from a separate load process over real HTTP
while a websocket subscriber times live tally updates (each published step of k ballots, from the
acknowledgement of its last ballot), and straight after the same requests at the
bare endpoint. At the end verify the invariants (stored ballots = acknowledged votes, no duplicates,
Redis tallies = database counts) and print each round, the median figures and ratio, the worst
latencies, and one final JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from polls.domain.access import Actor
from polls.domain.officer_keys import new_key_pair
from polls.domain.pilots import AreaSpec, PilotSpec
from polls.domain.polls import Action, NewPollSpec
from polls.domain.validation import parse
from polls.live.embedded import EmbeddedRedis
from polls.store import lifecycle as poll_lifecycle
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.codes import issue_codes
from polls.store.db import open_engine, sessions_for
from polls.store.migrate import upgrade
from polls.store.officer_keys import set_officer_key
from polls.store.staff import create_staff
from polls.tokens import VOTER_CODE, Tokens


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The benchmark's pilot and its one poll: a question of each common kind.
_PILOT = {
    "name": "Bench Borough",
    "region": "Bench",
    "council": "Bench Council",
    "starts_on": "2026-01-01",
    "ends_on": "2027-12-31",
    "contact_email": "bench@polls.example",
}
_POLL = {
    "title": "Benchmark poll",
    "results_visibility": "live",
    "questions": [
        {"kind": "single", "title": "Pick one", "options": [{"label": f"Option {i}"} for i in range(4)]},
        {
            "kind": "multiple",
            "title": "Pick up to three",
            "max_choices": 3,
            "options": [{"label": f"Choice {i}"} for i in range(5)],
        },
        {"kind": "scale", "title": "How much?", "scale_min": 1, "scale_max": 5},
    ],
}


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
            pilot = await pilot_store.create_pilot(session, actor, parse(PilotSpec, _PILOT))
            area = await pilot_store.add_area(
                session, actor, pilot.id, parse(AreaSpec, {"name": "All", "code": "A1"})
            )
            # Cards are sealed to a returning officer's key; the bench never replaces one, so the
            # private half is thrown away.
            await set_officer_key(session, actor, pilot.id, new_key_pair()[1])
            poll = await poll_store.create_poll(session, actor, pilot.id, parse(NewPollSpec, _POLL))
            await poll_lifecycle.transition(session, actor, poll.id, Action.OPEN)
            batch = await issue_codes(session, actor, pilot.id, area.id, codes)
            questions = [
                {"id": q.id, "kind": q.kind, "options": [o.id for o in q.options]} for q in poll.questions
            ]
            return poll.id, [c.short_code for c in batch.codes], questions
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


def _cpu_seconds(pid: int) -> tuple[float, float] | None:
    """CPU seconds used by a process, and by its children alive now (Linux); None elsewhere."""
    try:
        own = _ticks(pid)
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        theirs = sum(_ticks(int(child)) for child in children)
    except OSError:
        return None
    return own / os.sysconf("SC_CLK_TCK"), theirs / os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def _cpu_per_request(
    pid: int, before: tuple[float, float] | None, requests: int
) -> tuple[float, float] | tuple[None, None]:
    """Microseconds of CPU per request in the server process and in its children (the app's SQLite
    writer): steadier than requests a second on a shared machine, so they show what a change to
    the code did."""
    after = _cpu_seconds(pid)
    if before is None or after is None or not requests:
        return None, None
    own, theirs = ((a - b) / requests * 1e6 for a, b in zip(after, before, strict=True))
    return round(own, 1), round(theirs, 1)


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


def _write_votes(
    workdir: Path,
    tokens: Tokens,
    codes: list[str],
    questions: list[dict[str, Any]],
    warmup: int,
    votes: int,
    rounds: int,
) -> tuple[Path, list[Path]]:
    """One request body a line: the warm-up's file, then one file of ``votes`` per round."""
    rng = random.Random(7)
    bodies = [
        json.dumps({"code": tokens.sign(VOTER_CODE, code), "answers": _ballot(questions, rng)}).encode()
        for code in codes
    ]
    warm_file = workdir / "warmup.jsonl"
    warm_file.write_bytes(b"\n".join(bodies[:warmup]) + b"\n")
    round_files = []
    for n in range(rounds):
        round_file = workdir / f"votes-{n + 1}.jsonl"
        first = warmup + n * votes
        round_file.write_bytes(b"\n".join(bodies[first : first + votes]) + b"\n")
        round_files.append(round_file)
    return warm_file, round_files


def _drive(
    env_file: Path,
    poll_id: int,
    warm_file: Path,
    round_files: list[Path],
    votes: int,
    concurrency: int,
    redis_pid: int | None,
) -> tuple[int, list[dict[str, Any]]]:
    """Start the app and the bare endpoint, warm both, then each round at one and then the
    other; the votes the warm-up had acknowledged, and each round's two loads (with the CPU
    time per vote of the app, its writer and redis-server)."""
    path = f"/api/polls/{poll_id}/votes"
    app_port, bare_port = _free_port(), _free_port()
    app = _start("app", app_port, env_file)
    try:
        bare = _start("bare", bare_port)
        try:
            warm = _run_load(_load(app_port, warm_file, concurrency, None) | {"path": path})
            _run_load(_load(bare_port, warm_file, concurrency, None) | {"path": path})
            measured: list[dict[str, Any]] = []
            for n, round_file in enumerate(round_files, start=1):
                print(
                    f"round {n} of {len(round_files)}: {votes:,} voters, {concurrency} at a time, "
                    "at polls and then at the bare endpoint ...",
                    file=sys.stderr,
                    flush=True,
                )
                before = _cpu_seconds(app.pid), _cpu_seconds(bare.pid)
                redis_before = _cpu_seconds(redis_pid) if redis_pid else None
                app_load = _run_load(_load(app_port, round_file, concurrency, poll_id) | {"path": path})
                app_load["cpu_us"] = _cpu_per_request(app.pid, before[0], app_load["acknowledged"])
                if redis_pid:
                    app_load["redis_cpu_us"] = _cpu_per_request(
                        redis_pid, redis_before, app_load["acknowledged"]
                    )[0]
                bare_load = _run_load(_load(bare_port, round_file, concurrency, None) | {"path": path})
                bare_load["cpu_us"] = _cpu_per_request(bare.pid, before[1], bare_load["acknowledged"])
                measured.append({"app": app_load, "bare": bare_load})
        finally:
            _stop(bare)
    finally:
        _stop(app)
    return warm["acknowledged"], measured


def run(votes: int = 30_000, concurrency: int = 200, warmup: int = 2_000, rounds: int = 3) -> dict[str, Any]:
    """``rounds`` times: ``votes`` fresh voters at the app, then the same requests at the bare
    endpoint. Both servers run throughout, so each round's two loads are seconds apart: on a
    shared machine the speed of both moves from minute to minute, and a ratio is only fair
    between loads driven close together."""
    if votes < 1 or concurrency < 1 or rounds < 1:
        raise ValueError("voters, concurrency and rounds must each be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="polls-bench-"))
    redis = EmbeddedRedis(workdir / "redis", persistent=False)  # as the app's embedded default
    try:
        database_url = f"sqlite+aiosqlite:///{workdir / 'polls.sqlite3'}"
        upgrade(database_url)
        redis.start()
        print(f"issuing {warmup + rounds * votes:,} codes ...", file=sys.stderr, flush=True)
        ballot_key = secrets.token_urlsafe(32)
        poll_id, codes, questions = asyncio.run(_seed(database_url, warmup + rounds * votes, ballot_key))
        key = secrets.token_urlsafe(32)
        warm_file, round_files = _write_votes(
            workdir, Tokens((key,)), codes, questions, warmup, votes, rounds
        )
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
        redis_pid = redis.process.pid if redis.process else None
        warmed, measured = _drive(env_file, poll_id, warm_file, round_files, votes, concurrency, redis_pid)
        checks = asyncio.run(_verify(database_url, redis.url, poll_id))
    finally:
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return _figures(votes, concurrency, warmed, measured, checks)


def _round_figures(m: dict[str, Any]) -> dict[str, Any]:
    """One round's figures: the app's and the bare endpoint's loads side by side."""
    return {
        "votes_per_second": m["app"]["per_second"],
        "p50_ms": m["app"]["p50_ms"],
        "p99_ms": m["app"]["p99_ms"],
        "bare_per_second": m["bare"]["per_second"],
        "bare_p50_ms": m["bare"]["p50_ms"],
        "bare_p99_ms": m["bare"]["p99_ms"],
        "ratio": round(m["app"]["per_second"] / m["bare"]["per_second"], 3)
        if m["bare"]["per_second"]
        else 0.0,
        "tally_p50_ms": m["app"]["tally_p50_ms"],
        "tally_p99_ms": m["app"]["tally_p99_ms"],
        "step_p50_ms": m["app"]["step_p50_ms"],
        "step_p99_ms": m["app"]["step_p99_ms"],
        "cpu_us_per_vote": m["app"]["cpu_us"][0],
        "writer_cpu_us_per_vote": m["app"]["cpu_us"][1],
        "redis_cpu_us_per_vote": m["app"].get("redis_cpu_us"),
        "bare_cpu_us_per_request": m["bare"]["cpu_us"][0],
    }


def _figures(
    votes: int, concurrency: int, warmed: int, measured: list[dict[str, Any]], checks: dict[str, Any]
) -> dict[str, Any]:
    """Per round, and over the rounds: the median speed and ratio, the worst latency."""
    per_round = [_round_figures(m) for m in measured]
    refused: dict[str, int] = {}
    for m in measured:
        for status, n in m["app"]["statuses"].items():
            if not status.startswith("2"):
                refused[status] = refused.get(status, 0) + n
    acknowledged = warmed + sum(m["app"]["acknowledged"] for m in measured)

    def known(name: str) -> list[float]:  # a round without samples has None, or NaN
        return [r[name] for r in per_round if r[name] is not None and r[name] == r[name]]

    def worst(name: str) -> float | None:
        return max(known(name), default=None)

    def median(name: str) -> float | None:
        values = known(name)
        return round(statistics.median(values), 3) if values else None

    return {
        "benchmark": "votes",
        "voters": votes,
        "concurrency": concurrency,
        "rounds": len(per_round),
        "votes_per_second": median("votes_per_second"),
        "p50_ms": median("p50_ms"),
        "p99_ms": worst("p99_ms"),
        "bare_per_second": median("bare_per_second"),
        "bare_p50_ms": median("bare_p50_ms"),
        "bare_p99_ms": worst("bare_p99_ms"),
        "ratio": median("ratio"),
        "ratio_lowest": min(r["ratio"] for r in per_round),
        "tally_p50_ms": median("tally_p50_ms"),
        "tally_p99_ms": worst("tally_p99_ms"),
        "step_p50_ms": median("step_p50_ms"),
        "step_p99_ms": worst("step_p99_ms"),
        "refused": refused,
        "connection_errors": sum(m["app"]["connection_errors"] for m in measured),
        "stored_ballots": checks["ballots"],
        "acknowledged": acknowledged,
        "lost": acknowledged - checks["ballots"],
        "duplicated": checks["ballots"] - checks["nullifiers"],
        "tallies_match_database": checks["tally_differences"] == 0,
        "cpus": os.cpu_count(),
        "per_round": per_round,
    }


# The per-round table: heading, and the figure under it.
_COLUMNS = (
    ("votes/s", "votes_per_second"),
    ("p50 ms", "p50_ms"),
    ("p99 ms", "p99_ms"),
    ("bare/s", "bare_per_second"),
    ("bare p99", "bare_p99_ms"),
    ("ratio", "ratio"),
    ("tally p50", "tally_p50_ms"),
    ("tally p99", "tally_p99_ms"),
    ("step p99", "step_p99_ms"),
    ("app µs", "cpu_us_per_vote"),
    ("writer µs", "writer_cpu_us_per_vote"),
    ("redis µs", "redis_cpu_us_per_vote"),
    ("bare µs", "bare_cpu_us_per_request"),
)


def report(figures: dict[str, Any]) -> str:
    f = figures
    lines = ["".join(f"{h:>10}" for h in ("round", *(h for h, _ in _COLUMNS)))]
    for n, r in enumerate(f["per_round"], start=1):
        cells = (n, *(r[name] for _, name in _COLUMNS))
        lines.append("".join(f"{'-' if c is None else c:>10}" for c in cells))
    lines.append(
        f"over {f['rounds']} rounds: {f['votes_per_second']} votes/s (median), p99 {f['p99_ms']} ms "
        f"(worst); bare {f['bare_per_second']}/s (median)"
    )
    lines.append(
        "µs: CPU time per vote in the app's process, its SQLite writer and redis-server, "
        "per request in bare's"
    )
    lines.append(f"ratio to bare: {f['ratio']} (median of the rounds; lowest {f['ratio_lowest']})")
    lines.append(
        f"live tally, a vote's acknowledgement to a subscriber seeing it (its step of k included): "
        f"p50 {f['tally_p50_ms']} ms (median), p99 {f['tally_p99_ms']} ms (worst)"
    )
    lines.append(
        f"live step, its last ballot's acknowledgement to the subscriber: p50 {f['step_p50_ms']} ms "
        f"(median), p99 {f['step_p99_ms']} ms (worst)"
    )
    lines.append(
        f"acknowledged {f['acknowledged']}, stored {f['stored_ballots']}, lost {f['lost']}, "
        f"duplicated {f['duplicated']}, tallies match database: {f['tallies_match_database']}"
    )
    lines.append(json.dumps(figures))
    return "\n".join(lines)
