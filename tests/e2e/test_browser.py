"""In a real browser (headless Chromium): the ballot's scripts add tap-to-rank and the running
budget total, and the page still carries every answer as a plain form field."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.voting_setup import Setup, token

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered_dom(url: str) -> str:
    """The page's DOM after its scripts ran, as Chromium sees it."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:  # helpers may outlive it
        done = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=3000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    return done.stdout


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="Chromium is not installed")
async def test_ballot_scripts_enhance_ranking_and_budget(live_server: str, voting: Setup) -> None:
    url = f"http://{live_server}/v/{token(voting.codes['north'][0])}/polls/{voting.poll['id']}"
    dom = await asyncio.to_thread(rendered_dom, url)
    assert "app-rank__button" in dom  # tap-to-rank buttons were added
    assert "Chosen: £0 of £100" in dom  # the running budget total is shown
    assert f'name="q{voting.q["ranked"]["id"]}_o' in dom  # the plain selects are still posted
