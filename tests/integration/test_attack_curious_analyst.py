"""Adversary: the curious analyst. An analyst reads every written response (never its ballot) and
can make themes and tags. Wanting to know where one response came from (which area, which
channel, so which few people could have written it), they make a theme, tag only that response
and read the counts by area and channel. Counts of fewer than k responses are hidden, so the
probe learns nothing; larger cells are shown as they are."""

from __future__ import annotations

import re

import httpx

from tests.conftest import sign_in
from tests.factories import csrf_from
from tests.integration.test_analysis import ANALYST, SOUTH, Written, _add_theme, _numbers, _tag, written

__all__ = ["written"]  # the fixture, shared with the analysis tests

TARGET = SOUTH[4]  # "My neighbour at 4 Elm Road parks on the pavement", written in South


async def test_tagging_one_response_alone_does_not_reveal_its_area_or_channel(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, written: Written
) -> None:
    numbers = await _numbers(officer, written.poll_id)
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as analyst:
        await sign_in(analyst, *ANALYST)
        probe = await _add_theme(analyst, written.pilot["id"], "Probe")
        await _tag(analyst, written, numbers[TARGET], [probe])
        overview = (await analyst.get(written.base)).text
        reader = (await analyst.get(f"{written.base}/responses/{numbers[TARGET]}")).text
        assert csrf_from(reader)
    row = re.search(r"Probe</th>(.*?)</tr>", overview, re.S)
    assert row, overview
    cells = row.group(1)
    assert "South: 1" not in cells and "Online: 1" not in cells  # the attack's answer
    assert "North: 0; South: fewer than 5" in cells and "Online: fewer than 5" in cells
    for page in (overview, reader):  # nor does any page put an area or channel beside the words
        assert not re.search(r"(North|South|Online|Paper)[^<]{0,40}" + re.escape(TARGET), page)
