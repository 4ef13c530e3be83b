"""`polls bench votes` on a small load, on SQLite and on PostgreSQL with two instances: every round
measured, invariants checked, JSON last."""

from __future__ import annotations

import json
import os
import sys

import pytest

from polls.bench import postgres, votes


def test_votes_bench_measures_each_round_against_the_bare_endpoint_and_checks_the_invariants() -> None:
    figures = votes.run(votes=400, concurrency=20, warmup=50, rounds=2)
    lines = votes.report(figures).splitlines()
    assert json.loads(lines[-1]) == figures
    assert figures["acknowledged"] == figures["stored_ballots"] == 50 + 2 * 400
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["refused"] == {}
    assert figures["tallies_match_database"] is True
    assert len(figures["per_round"]) == 2
    for one in figures["per_round"]:
        assert one["votes_per_second"] > 0 and one["bare_per_second"] > 0
        assert one["ratio"] == round(one["votes_per_second"] / one["bare_per_second"], 3)
        assert 0 < one["p50_ms"] <= one["p99_ms"]
        assert one["tally_p99_ms"] is not None
        assert one["step_p50_ms"] is not None and one["step_p50_ms"] <= one["step_p99_ms"]
        if sys.platform == "linux":  # CPU time is read from /proc
            assert one["cpu_us_per_vote"] > 0 and one["bare_cpu_us_per_request"] > 0
            assert one["writer_cpu_us_per_vote"] >= 0 and one["redis_cpu_us_per_vote"] >= 0
    assert figures["ratio_lowest"] == min(r["ratio"] for r in figures["per_round"])
    assert figures["p99_ms"] == max(r["p99_ms"] for r in figures["per_round"])


def test_votes_bench_on_postgresql_spreads_the_voters_over_polls_serve_instances() -> None:
    _require_postgresql()
    figures = votes.run(votes=300, concurrency=20, warmup=40, rounds=1, database="postgresql")
    assert json.loads(votes.report(figures).splitlines()[-1]) == figures
    assert figures["database"] == "postgresql" and figures["instances"] == 2
    assert figures["acknowledged"] == figures["stored_ballots"] == 40 + 300
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["refused"] == {}
    assert figures["connection_errors"] == 0
    assert figures["tallies_match_database"] is True
    (one,) = figures["per_round"]
    assert one["votes_per_second"] > 0 and one["bare_per_second"] > 0
    if sys.platform == "linux":
        assert one["cpu_us_per_vote"] > 0 and one["postgres_cpu_us_per_vote"] > 0
        assert one["redis_cpu_us_per_vote"] >= 0 and one["writer_cpu_us_per_vote"] is None


def test_votes_bench_runs_sqlite_as_one_instance() -> None:
    with pytest.raises(ValueError, match="one instance"):
        votes.run(votes=10, database="sqlite", instances=2)


def _require_postgresql() -> None:
    if not postgres.installed() and not os.environ.get("CI"):  # CI installs PostgreSQL
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
