"""`polls bench count` on a small input: it runs, compares with the references and ends in JSON."""

from __future__ import annotations

import json

import pytest

from polls.bench import count

pytestmark = pytest.mark.slow


def test_counting_bench_reports_times_ratios_and_agreement_as_a_final_json_line() -> None:
    figures = count.run(ballots=3000, candidates=6, seats=2, voters=300, projects=12, budget=99_900)
    lines = count.report(figures).splitlines()
    assert json.loads(lines[-1]) == figures
    for method in ("instant_runoff", "stv", "equal_shares"):
        assert figures[f"{method}_agrees"] is True
        assert figures[f"{method}_s"] > 0 and figures[f"{method}_reference_s"] > 0
    assert lines[2].startswith("instant-runoff")
    assert figures["equal_shares_variant"] == "cost, add1"  # as cities count, against pabutools' same
