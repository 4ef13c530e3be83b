"""In a real browser (headless Chromium): the ballot's scripts add tap-to-rank and the running
budget total, and the page still carries every answer as a plain form field."""

from __future__ import annotations

import pytest

from tests.browser import chromium
from tests.voting_setup import Setup, token


@pytest.mark.e2e
async def test_ballot_scripts_enhance_ranking_and_budget(live_server: str, voting: Setup) -> None:
    url = f"http://{live_server}/v/{token(voting.codes['north'][0])}/polls/{voting.poll['id']}"
    async with chromium() as browser:
        page = await browser.new_page()  # type: ignore[attr-defined]
        await page.goto(url)
        await page.wait_for_load_state("networkidle")
        dom = await page.content()
    assert "app-rank__button" in dom  # tap-to-rank buttons were added
    assert "Chosen: £0 of £100" in dom  # the running budget total is shown
    assert f'name="q{voting.q["ranked"]["id"]}_o' in dom  # the plain selects are still posted
