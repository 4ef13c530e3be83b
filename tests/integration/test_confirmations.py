"""What cannot be undone asks first, without JavaScript: closing a poll early and publishing
results go through a page saying what will happen; a post that skips it changes nothing."""

from __future__ import annotations

import httpx

from tests.factories import csrf_from
from tests.voting_setup import Setup


async def test_closing_a_poll_early_asks_first_and_an_unconfirmed_post_changes_nothing(
    officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = voting.poll["id"]
    page = await officer.get(f"/council/polls/{poll_id}")
    assert f'href="/council/polls/{poll_id}/actions/close" role="button"' in page.text
    asked = await officer.get(f"/council/polls/{poll_id}/actions/close")
    assert asked.status_code == 200
    assert "Close the poll now?" in asked.text and "This cannot be undone" in asked.text
    csrf = csrf_from(asked.text)
    skipped = await officer.post(f"/council/polls/{poll_id}/actions/close", data={"csrf_token": csrf})
    assert skipped.status_code == 303
    assert skipped.headers["location"] == f"/council/polls/{poll_id}/actions/close"
    assert (await officer.get(f"/api/polls/{poll_id}")).json()["status"] == "open"
    done = await officer.post(
        f"/council/polls/{poll_id}/actions/close", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/council/polls/{poll_id}"
    assert (await officer.get(f"/api/polls/{poll_id}")).json()["status"] == "closed"


async def test_publishing_results_asks_first(officer: httpx.AsyncClient, voting: Setup) -> None:
    asked = await officer.get(f"/council/polls/{voting.poll['id']}/actions/publish")
    assert asked.status_code == 200
    assert "Publish the results?" in asked.text and "Yes, publish the results" in asked.text
    assert f'href="/council/polls/{voting.poll["id"]}/results">No, go back' in asked.text


async def test_moves_that_can_be_undone_need_no_confirmation(
    officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = voting.poll["id"]
    assert (await officer.get(f"/council/polls/{poll_id}/actions/open")).headers["location"] == (
        f"/council/polls/{poll_id}"
    )
