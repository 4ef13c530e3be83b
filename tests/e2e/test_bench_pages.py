"""`polls bench pages`: the resident pages measured in Chromium on emulated Fast 3G, ending in JSON."""

from __future__ import annotations

import json

import pytest

from polls.bench import pages
from tests.browser import need_browser


@pytest.mark.e2e
def test_pages_bench_reports_bytes_and_first_paint_within_the_budget() -> None:
    need_browser()
    figures = pages.run()
    lines = pages.report(figures).splitlines()
    assert json.loads(lines[-1]) == figures
    for name, page in figures["pages"].items():
        assert page["kb"] > 0 and page["fcp_ms"] and page["fcp_ms"] > 562, name  # one round trip at least
    assert figures["journey"]["kb"] <= pages.BUDGET_KB and figures["met"]
