"""Open polls (no codes): one vote per browser, honestly labelled on the results."""

from __future__ import annotations

import re

import httpx

from tests.factories import csrf_from, make_poll, single_question
from tests.voting_setup import Setup


async def test_a_browser_votes_once_in_an_open_poll(
    officer: httpx.AsyncClient, client: httpx.AsyncClient, voting: Setup
) -> None:
    poll = await make_poll(
        officer,
        voting.pilot["id"],
        assurance="open",
        results_visibility="live",
        questions=[single_question()],
    )
    await officer.post(f"/api/polls/{poll['id']}/actions/open")
    transport = client._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        url = f"/polls/{poll['id']}/vote"
        form = await browser.get(url)
        assert form.status_code == 200
        assert browser.cookies.get("polls_browser")
        question = poll["questions"][0]
        choice = {f"q{question['id']}": str(question["options"][1]["id"])}
        review = await browser.post(url, data={"csrf_token": csrf_from(form.text), **choice})
        assert review.status_code == 200
        ballot = re.search(r'name="ballot" value="([^"]+)"', review.text)
        assert ballot
        data = {"csrf_token": csrf_from(review.text), "ballot": ballot.group(1).replace("&#34;", '"')}
        receipt = await browser.post(url + "/submit", data=data)
        assert receipt.status_code == 200
        assert "Your vote has been counted" in receipt.text
        again = await browser.post(url + "/submit", data=data)
        assert again.status_code == 409
        results = await browser.get(f"/polls/{poll['id']}/results")
        assert "one vote per browser" in results.text


async def test_poll_card_polls_refuse_the_open_ballot(client: httpx.AsyncClient, voting: Setup) -> None:
    response = await client.get(f"/polls/{voting.poll['id']}/vote")
    assert response.status_code == 400
    assert "poll card" in response.text
