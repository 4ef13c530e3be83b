"""Residents vote through pages without JavaScript: code, ballot, review, receipt, results."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.codes import format_short_code
from polls.store.models import Ballot
from tests.conftest import count
from tests.factories import csrf_from
from tests.voting_setup import TRACKER, Setup, officer_closes, settled_tallies, token, vote


async def test_resident_types_code_answers_reviews_and_gets_a_receipt(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    page = await client.get("/vote")
    typed = format_short_code(voting.codes["north"][0].short_code).lower()
    found = await client.post("/vote", data={"csrf_token": csrf_from(page.text), "code": typed})
    assert found.status_code == 303
    polls_page = await client.get(found.headers["location"])
    assert voting.poll["title"] in polls_page.text
    ballot_url = re.search(r'href="(/v/[^"]+/polls/\d+)"', polls_page.text)
    assert ballot_url
    form_page = await client.get(ballot_url.group(1))
    assert form_page.status_code == 200
    q = voting.q
    data = {
        "csrf_token": csrf_from(form_page.text),
        f"q{q['single']['id']}": str(voting.option("single", 0)),
        f"q{q['multiple']['id']}": [str(voting.option("multiple", 1))],
        f"q{q['ranked']['id']}_o{voting.option('ranked', 1)}": "1",
        f"q{q['ranked']['id']}_o{voting.option('ranked', 2)}": "2",
        f"q{q['scale']['id']}": "5",
        f"q{q['budget']['id']}": [str(voting.option("budget", 1)), str(voting.option("budget", 2))],
        f"q{q['comment']['id']}": "Fix the potholes",
    }
    review = await client.post(ballot_url.group(1), data=data)
    assert review.status_code == 200, review.text
    assert "Check your answers" in review.text
    assert "1. B; 2. C" in review.text
    ballot_field = re.search(r'name="ballot" value="([^"]+)"', review.text)
    assert ballot_field
    receipt = await client.post(
        ballot_url.group(1) + "/submit",
        data={"csrf_token": csrf_from(review.text), "ballot": ballot_field.group(1).replace("&#34;", '"')},
    )
    assert receipt.status_code == 200, receipt.text
    tracker = re.search(r'id="tracker">(' + TRACKER + r")<", receipt.text)
    assert tracker
    assert await count(db, Ballot) == 1
    await settled_tallies(client._transport.app.state.runtime, voting.poll["id"])  # type: ignore[attr-defined]
    check = await client.get(f"/polls/{voting.poll['id']}/trackers?tracker={tracker.group(1)}")
    assert 'id="tracker-waiting"' in check.text  # listed with the next step of 10
    assert "will appear with the next update" in check.text
    again = await client.get(found.headers["location"])
    assert "You have voted" in again.text
    replay = await client.post(
        ballot_url.group(1) + "/submit",
        data={"csrf_token": csrf_from(review.text), "ballot": ballot_field.group(1).replace("&#34;", '"')},
    )
    assert replay.status_code == 409
    assert "already been used" in replay.text


async def test_ballot_errors_show_next_to_the_question(client: httpx.AsyncClient, voting: Setup) -> None:
    url = f"/v/{token(voting.codes['north'][1])}/polls/{voting.poll['id']}"
    page = await client.get(url)
    q = voting.q
    data = {
        "csrf_token": csrf_from(page.text),
        f"q{q['ranked']['id']}_o{voting.option('ranked', 0)}": "1",
        f"q{q['ranked']['id']}_o{voting.option('ranked', 1)}": "3",
        f"q{q['budget']['id']}": [str(voting.option("budget", 0)), str(voting.option("budget", 1))],
    }
    response = await client.post(url, data=data)
    assert response.status_code == 422
    assert f'id="q{q["ranked"]["id"]}-error"' in response.text
    assert "without gaps" in response.text


async def test_mistyped_code_page_says_so_next_to_the_field(client: httpx.AsyncClient, voting: Setup) -> None:
    page = await client.get("/vote")
    response = await client.post("/vote", data={"csrf_token": csrf_from(page.text), "code": "ABCD-EFGH"})
    assert response.status_code == 422
    assert 'id="code-error"' in response.text


async def test_qr_link_with_short_code_leads_to_the_polls(client: httpx.AsyncClient, voting: Setup) -> None:
    response = await client.get(f"/c/{voting.codes['north'][2].short_code}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/v/vc_")


async def test_results_page_shows_counts_and_turnout(client: httpx.AsyncClient, voting: Setup) -> None:
    await vote(client, voting.poll["id"], token(voting.codes["north"][3]), voting.full_ballot())
    await settled_tallies(client._transport.app.state.runtime, voting.poll["id"])  # type: ignore[attr-defined]
    page = await client.get(f"/polls/{voting.poll['id']}/results")
    assert page.status_code == 200
    assert 'data-count="ballots">0<' in page.text  # a quiet poll says why it is quiet
    assert "Live results update every 10 votes" in page.text
    assert "North" in page.text
    assert 'http-equiv="refresh"' in page.text  # live polls reload without JavaScript
    await officer_closes(client, voting.poll["id"])
    page = await client.get(f"/polls/{voting.poll['id']}/results")
    assert 'data-count="ballots">1<' in page.text and "Live results update" not in page.text
