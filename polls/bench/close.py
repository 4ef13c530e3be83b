"""`polls bench close`: closing a poll with a million ballots, its time and peak memory.

The ballots are generated straight into the database (COPY on PostgreSQL, one executemany in a
transaction on SQLite), with answers drawn as residents give them for each kind of question:
a favourite among the single-choice options, one to three approvals, rankings mostly short,
a spread over the scale, projects within the budget, and a comment on a few ballots. Then a
fresh process closes the poll as the scheduler does at its closing time (polls.store.lifecycle:
count every question, write the ballot file, in the transaction that closes it) and reports
the time and its peak memory (the whole process's).
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from polls.bench.topology import SQLITE, Topology
from polls.bench.voters import seed

TARGET_SECONDS, TARGET_MB = 30.0, 2048.0
_PROJECTS = [120, 250, 80, 400, 300, 60, 150, 220]  # thousands of pounds
POLL: dict[str, Any] = {
    "title": "Closing benchmark",
    "results_visibility": "after_close",
    "questions": [
        {"kind": "single", "title": "Pick one", "options": [{"label": f"Site {i}"} for i in range(5)]},
        {
            "kind": "multiple",
            "title": "Approve any",
            "min_choices": 0,
            "max_choices": 8,
            "options": [{"label": f"Idea {i}"} for i in range(8)],
        },
        {
            "kind": "ranked",
            "title": "Rank the candidates",
            "seats": 1,
            "options": [{"label": f"Candidate {i}"} for i in range(6)],
        },
        {"kind": "scale", "title": "How satisfied?", "scale_min": 0, "scale_max": 10},
        {
            "kind": "budget",
            "title": "Share the budget",
            "budget_total": 900,
            "options": [{"label": f"Project {i}", "cost": c} for i, c in enumerate(_PROJECTS)],
        },
        {"kind": "comment", "title": "Anything else?", "max_length": 500},
    ],
}
_WORDS = (
    *("the", "park", "needs", "more", "trees", "benches", "lights"),
    *("safer", "crossings", "buses", "library", "open", "later"),
)


def answers(questions: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """One resident's ballot: every counted question answered, a comment now and then."""
    single, multiple, ranked, scale, budget, comment = questions
    out: dict[str, Any] = {
        str(single["id"]): rng.choices(single["options"], weights=[5, 3, 2, 1, 1])[0],
        str(multiple["id"]): sorted(rng.sample(multiple["options"], rng.randint(1, 3))),
        str(ranked["id"]): rng.sample(
            ranked["options"], rng.choices(range(1, 7), weights=[30, 25, 20, 10, 5, 10])[0]
        ),
        str(scale["id"]): min(10, max(0, round(rng.gauss(6, 2.5)))),
    }
    left, chosen = int(budget["settings"]["budget_total"]), []
    for option, cost in sorted(
        zip(budget["options"], budget["costs"], strict=True), key=lambda _: rng.random()
    ):
        if cost <= left and rng.random() < 0.6:
            chosen.append(option)
            left -= cost
    if chosen:  # a resident who funds nothing leaves the question unanswered
        out[str(budget["id"])] = sorted(chosen)
    if rng.random() < 0.02:
        out[str(comment["id"])] = " ".join(rng.choices(_WORDS, k=rng.randint(3, 40)))
    return out


def _rows(poll_id: int, questions: list[dict[str, Any]], ballots: int) -> list[tuple[Any, ...]]:
    """The ballots' rows, sorted by tracker (their key) so the tables fill quickly. Answers come
    from a pool of 50,000 residents' ballots: a million drawn one by one would take longer than
    the close being measured, and a pool keeps the count's distinct answers as many."""
    rng = random.Random(11)
    pool = [json.dumps(answers(questions, rng), separators=(",", ":")) for _ in range(min(ballots, 50_000))]
    areas = questions[0]["areas"]
    channels = rng.choices(["online", "paper", "event"], weights=[95, 4, 1], k=ballots)
    rows = [
        (poll_id, secrets.token_hex(32), rng.choice(areas), channel, rng.choice(pool)) for channel in channels
    ]
    rows.sort(key=lambda row: row[1])
    return rows


def _fill_sqlite(path: str, rows: list[tuple[Any, ...]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO ballots (poll_id, tracker, area_id, channel, answers) VALUES (?, ?, ?, ?, ?)", rows
        )


async def _fill_postgres(port: int, rows: list[tuple[Any, ...]]) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="polls")
    try:
        columns = ["poll_id", "tracker", "area_id", "channel", "answers"]
        await conn.copy_records_to_table("ballots", records=rows, columns=columns)
        await conn.execute("ANALYZE ballots")
    finally:
        await conn.close()


def run(ballots: int = 1_000_000, database: str = SQLITE) -> dict[str, Any]:
    """Generate ``ballots`` ballots of an open poll, then close it in a fresh process."""
    if ballots < 1:
        raise ValueError("ballots must be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="polls-bench-close-"))
    topology = Topology(workdir, database)
    try:
        topology.start_services()
        ballot_key = secrets.token_urlsafe(32)
        poll_id, _, questions = asyncio.run(seed(topology.database_url, 0, ballot_key, POLL, areas=3))
        print(f"generating {ballots:,} ballots ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        rows = _rows(poll_id, questions, ballots)
        if topology.postgres is not None:
            asyncio.run(_fill_postgres(topology.postgres.port, rows))
        else:
            _fill_sqlite(topology.database_url.split("///", 1)[1], rows)
        del rows
        generated = time.perf_counter() - started
        print("closing the poll ...", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "polls.bench.closing", topology.database_url, str(poll_id), ballot_key],
            capture_output=True,
            check=True,
        )
        closed: dict[str, Any] = json.loads(done.stdout)
    finally:
        topology.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "benchmark": "close",
        "database": database,
        "ballots": ballots,
        "generate_seconds": round(generated, 2),
        **closed,
        "within_targets": closed["close_seconds"] < TARGET_SECONDS and closed["peak_memory_mb"] < TARGET_MB,
    }


def report(figures: dict[str, Any]) -> str:
    f = figures
    met = "met" if f["within_targets"] else "MISSED"
    return "\n".join(
        [
            f"{f['database']}: {f['ballots']:,} ballots generated in {f['generate_seconds']} s",
            f"closing (count {f['questions']} questions, write the {f['ballot_file_mb']} MB ballot file): "
            f"{f['close_seconds']} s ({f['close_cpu_seconds']} s of CPU), "
            f"peak memory {f['peak_memory_mb']} MB (before closing {f['start_memory_mb']} MB)",
            f"targets (under {TARGET_SECONDS:g} s and {TARGET_MB:g} MB): {met}",
            json.dumps(figures),
        ]
    )


def maxrss_mb() -> float:
    """This process's peak resident memory so far. On Linux from /proc (VmHWM): getrusage's maxrss
    carries over through exec the peak of the process forked from, here the generator's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
