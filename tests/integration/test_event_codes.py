"""Event mode: moderators hand out single-use codes for one poll; votes count under "event"."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.store.models import Ballot
from tests.factories import csrf_from, make_poll, single_question
from tests.voting_setup import Setup


async def open_event_poll(officer: httpx.AsyncClient, voting: Setup) -> dict:  # type: ignore[type-arg]
    poll = await make_poll(
        officer,
        voting.pilot["id"],
        assurance="event",
        area_ids=[voting.areas[0]["id"]],
        questions=[single_question()],
        results_visibility="live",
    )
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    return poll


async def test_event_code_votes_once_in_its_poll_and_counts_as_event(
    officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    poll = await open_event_poll(officer, voting)
    url = f"/council/polls/{poll['id']}/event"
    page = await officer.get(url)
    assert page.status_code == 200
    issued = await officer.post(
        url, data={"csrf_token": csrf_from(page.text), "area_id": str(voting.areas[0]["id"])}
    )
    assert issued.status_code == 201
    code = re.search(r'id="event-code">([0-9A-Z-]+)<', issued.text)
    assert code
    assert "<svg" in issued.text
    answers = {str(poll["questions"][0]["id"]): poll["questions"][0]["options"][0]["id"]}
    first = await officer.post(
        f"/api/polls/{poll['id']}/votes", json={"code": code.group(1), "answers": answers}
    )
    assert first.status_code == 201, first.text
    again = await officer.post(
        f"/api/polls/{poll['id']}/votes", json={"code": code.group(1), "answers": answers}
    )
    assert again.json()["code"] == "code_already_used"
    channel = (await db.execute(select(Ballot.channel).where(Ballot.poll_id == poll["id"]))).scalar_one()
    assert channel == "event"
    # The code is for that poll only.
    other = await officer.post(
        f"/api/polls/{voting.poll['id']}/votes", json={"code": code.group(1), "answers": voting.full_ballot()}
    )
    assert other.status_code == 403


async def test_event_codes_need_an_event_poll_and_an_area(officer: httpx.AsyncClient, voting: Setup) -> None:
    url = f"/council/polls/{voting.poll['id']}/event"
    page = await officer.get(url)
    refused = await officer.post(url, data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 409
    poll = await open_event_poll(officer, voting)
    url = f"/council/polls/{poll['id']}/event"
    page = await officer.get(url)
    missing_area = await officer.post(url, data={"csrf_token": csrf_from(page.text)})
    assert missing_area.status_code == 422
    assert 'id="area_id-error"' in missing_area.text


async def test_an_event_code_lists_only_its_own_poll(officer: httpx.AsyncClient, voting: Setup) -> None:
    poll = await open_event_poll(officer, voting)
    url = f"/council/polls/{poll['id']}/event"
    page = await officer.get(url)
    issued = await officer.post(
        url, data={"csrf_token": csrf_from(page.text), "area_id": str(voting.areas[0]["id"])}
    )
    code = re.search(r'id="event-code">([0-9A-Z-]+)<', issued.text)
    assert code
    found = await officer.post("/vote", data={"csrf_token": csrf_from(page.text), "code": code.group(1)})
    listing = await officer.get(found.headers["location"])
    assert f"/polls/{poll['id']}" in listing.text
    assert f'/polls/{voting.poll["id"]}"' not in listing.text
