"""`polls bench jury` on a small room: every client gets every event, and it ends in JSON."""

from __future__ import annotations

import json

from polls.bench import jury


def test_jury_bench_times_every_client_on_one_and_two_processes_and_ends_in_json() -> None:
    figures = jury.run(observers=30, rounds=3)
    lines = jury.report(figures).splitlines()
    assert json.loads(lines[-1]) == figures
    for label in ("one_process", "two_processes"):
        run = figures[label]
        assert run["connected"] == 30 + jury.JURORS + 1
        assert run["missing"] == 0 and run["samples"] == 3 * (30 + jury.JURORS)
        assert 0 < run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]
    assert len(figures["two_processes"]["rss_delta_mb"]) == 2
