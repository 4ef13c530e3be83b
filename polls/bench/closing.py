"""The process `polls bench close` closes its poll in, so its peak memory is the close's alone:
the scheduler's close (polls.store.lifecycle), timed in wall-clock and CPU seconds (steadier
on a busy machine); one JSON line with the figures."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from polls import serving
from polls.bench.close import maxrss_mb
from polls.domain.polls import Action
from polls.store import lifecycle
from polls.store.db import open_engine, sessions_for
from polls.store.results import load


async def close(database_url: str, poll_id: int, ballot_key: str) -> dict[str, Any]:
    engine = open_engine(database_url, ballot_key=ballot_key)
    try:
        db = sessions_for(engine)
        async with db() as session:  # connected, and the models loaded, before the clock starts
            await load(session, poll_id)
        start_memory = maxrss_mb()
        serving.tune_runtime()  # the scheduler closes polls in a serving process, tuned so
        started, cpu = time.perf_counter(), time.process_time()
        async with db.begin() as session:
            await lifecycle.transition(session, None, poll_id, Action.CLOSE)  # as the scheduler does
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = maxrss_mb()
        async with db() as session:
            result = await load(session, poll_id)
            if result is None:
                raise RuntimeError("the poll closed without an official count")
            return {
                "close_seconds": round(seconds, 2),
                "close_cpu_seconds": round(cpu, 2),  # this process's; the database's own not included
                "peak_memory_mb": peak,
                "start_memory_mb": start_memory,
                "counted_ballots": result.ballots,
                "questions": len(result.questions),
                "counted_questions": sum(1 for q in result.questions if q.method),
                "comments": len(result.comments),
                "ballot_file_mb": round(len(result.ballot_file.encode()) / 2**20, 1),
                "ballot_file_lines": result.ballot_file.count("\n") + 1,
            }
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(close(sys.argv[1], int(sys.argv[2]), sys.argv[3]))))
