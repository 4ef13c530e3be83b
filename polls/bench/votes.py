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
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from polls.bench.topology import POSTGRESQL, SQLITE, Topology
from polls.bench.voters import seed, verify, write_votes
from polls.tokens import Tokens


def _load(
    ports: list[int], bodies_file: Path, path: str, concurrency: int, watch_poll: int | None
) -> dict[str, Any]:
    config = {
        "host": "127.0.0.1",
        "ports": ports,
        "path": path,
        "bodies_file": str(bodies_file),
        "concurrency": concurrency,
        "watch_poll": watch_poll,
        "ws_url": f"ws://127.0.0.1:{ports[0]}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "polls.bench.load"],
        input=json.dumps(config).encode(),
        capture_output=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _per_request(
    before: dict[str, float | None], after: dict[str, float | None], requests: int, names: tuple[str, ...]
) -> dict[str, float | None]:
    """Microseconds of CPU per request in each of these processes (summed over instances):
    steadier than requests a second on a shared machine, so they show what a change did."""
    out: dict[str, float | None] = {}
    for name in names:
        b, a = before[name], after[name]
        out[name] = None if a is None or b is None or not requests else round((a - b) / requests * 1e6, 1)
    return out


def _drive(
    topology: Topology, poll_id: int, warm_file: Path, round_files: list[Path], votes: int, concurrency: int
) -> tuple[int, list[dict[str, Any]]]:
    """Warm the app and the bare endpoints, then each round at one and then the other; the votes
    the warm-up had acknowledged, and each round's two loads."""
    path = f"/api/polls/{poll_id}/votes"
    warm = _load(topology.app_ports, warm_file, path, concurrency, None)
    _load(topology.bare_ports, warm_file, path, concurrency, None)
    measured: list[dict[str, Any]] = []
    for n, round_file in enumerate(round_files, start=1):
        print(
            f"round {n} of {len(round_files)}: {votes:,} voters, {concurrency} at a time, "
            f"at {topology.instances} instance(s) of polls and then at the bare endpoint(s) ...",
            file=sys.stderr,
            flush=True,
        )
        before = topology.cpu()
        app_load = _load(topology.app_ports, round_file, path, concurrency, poll_id)
        middle = topology.cpu()
        app_load["cpu_us"] = _per_request(
            before, middle, app_load["acknowledged"], ("app", "writer", "postgres", "redis")
        )
        bare_load = _load(topology.bare_ports, round_file, path, concurrency, None)
        bare_load["cpu_us"] = _per_request(middle, topology.cpu(), bare_load["acknowledged"], ("bare",))
        measured.append({"app": app_load, "bare": bare_load})
    return warm["acknowledged"], measured


def run(
    votes: int = 30_000,
    concurrency: int = 200,
    warmup: int = 2_000,
    rounds: int = 3,
    database: str = SQLITE,
    instances: int | None = None,
) -> dict[str, Any]:
    """``rounds`` times: ``votes`` fresh voters at the app, then the same requests at the bare
    endpoints. All servers run throughout, so each round's two loads are seconds apart: on a
    shared machine the speed of both moves from minute to minute, and a ratio is only fair
    between loads driven close together. SQLite runs one instance; PostgreSQL ``instances``
    (2 unless given), the load spread over them."""
    if votes < 1 or concurrency < 1 or rounds < 1:
        raise ValueError("voters, concurrency and rounds must each be at least 1")
    if database not in (SQLITE, POSTGRESQL):
        raise ValueError(f"database must be {SQLITE} or {POSTGRESQL}")
    if database == SQLITE and instances not in (None, 1):
        raise ValueError("the embedded SQLite set-up runs one instance")
    instances = instances or (2 if database == POSTGRESQL else 1)
    workdir = Path(tempfile.mkdtemp(prefix="polls-bench-"))
    topology = Topology(workdir, database, instances)
    try:
        topology.start_services()
        assert topology.redis is not None
        print(f"issuing {warmup + rounds * votes:,} codes ...", file=sys.stderr, flush=True)
        ballot_key = secrets.token_urlsafe(32)
        poll_id, codes, questions = asyncio.run(
            seed(topology.database_url, warmup + rounds * votes, ballot_key)
        )
        key = secrets.token_urlsafe(32)
        warm_file, round_files = write_votes(workdir, Tokens((key,)), codes, questions, warmup, votes, rounds)
        topology.start_servers(
            {
                "DATABASE_URL": topology.database_url,
                "REDIS_URL": topology.redis.url,
                "SECRET_KEYS": key,
                "BALLOT_KEY": ballot_key,
                "POLLS_DATA_DIR": str(workdir),
            }
        )
        warmed, measured = _drive(topology, poll_id, warm_file, round_files, votes, concurrency)
        topology.stop_apps()  # as before: the instances finish their work before the check
        checks = asyncio.run(verify(topology.database_url, topology.redis.url, poll_id))
    finally:
        topology.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    figures = _figures(votes, concurrency, warmed, measured, checks)
    return {"benchmark": "votes", "database": database, "instances": instances} | figures


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
        "cpu_us_per_vote": m["app"]["cpu_us"]["app"],
        "writer_cpu_us_per_vote": m["app"]["cpu_us"]["writer"],
        "postgres_cpu_us_per_vote": m["app"]["cpu_us"]["postgres"],
        "redis_cpu_us_per_vote": m["app"]["cpu_us"]["redis"],
        "bare_cpu_us_per_request": m["bare"]["cpu_us"]["bare"],
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
    ("pg µs", "postgres_cpu_us_per_vote"),
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
        f"{f['database']}, {f['instances']} instance(s); µs: CPU time per vote in the app's processes, "
        "its SQLite writer, PostgreSQL's processes and Redis, per request in the bare endpoints'"
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
