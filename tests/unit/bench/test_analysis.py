"""`polls bench analysis` on a small input: it runs, finds the planted topics and opinion camps,
and ends in JSON."""

from __future__ import annotations

import json

import pytest

from polls.bench import analysis

pytestmark = pytest.mark.slow


def test_analysis_bench_reports_time_and_purity_as_a_final_json_line() -> None:
    figures = analysis.run(count=600, participants=600, statements=60)
    lines = analysis.report(figures).splitlines()
    assert json.loads(lines[-1]) == figures
    assert figures["responses"] == 600 and 50 <= figures["mean_words"] <= 70
    assert figures["groups_found"] >= 8 and figures["purity"] > 0.8
    assert figures["themes_seconds"] > 0 and figures["themes_meets_target"] is True
    assert figures["opinion_groups_found"] == 3 and figures["adjusted_rand"] > 0.7
    assert figures["uniting_planted_found"] == figures["uniting_planted"]
    assert figures["opinion_meets_target"] is True


def test_generated_responses_are_the_same_for_the_same_seed() -> None:
    assert analysis.responses(20, seed=1) == analysis.responses(20, seed=1)
    assert analysis.responses(20, seed=1) != analysis.responses(20, seed=2)
