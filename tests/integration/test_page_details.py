"""The smaller things on the pages (issue 14): each says plainly what is going on, where it is."""

from __future__ import annotations

import gzip

import httpx

from tests.factories import csrf_from, make_pilot, make_poll
from tests.voting_setup import Setup, officer_closes, token, vote


async def test_scheduling_without_times_is_answered_next_to_the_time_fields(
    officer: httpx.AsyncClient,
) -> None:
    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"])
    page = await officer.get(f"/council/polls/{poll['id']}")
    tried = await officer.post(
        f"/council/polls/{poll['id']}/actions/schedule", data={"csrf_token": csrf_from(page.text)}
    )
    assert tried.status_code == 303
    assert tried.headers["location"] == f"/council/polls/{poll['id']}/edit?to=schedule"
    form = await officer.get(tried.headers["location"])
    assert "There is a problem" in form.text
    assert 'id="opens_at-error"' in form.text and "Enter an opening time to schedule the poll" in form.text
    assert "Enter a closing time to schedule the poll" in form.text
    assert (await officer.get(f"/api/polls/{poll['id']}")).json()["status"] == "draft"


async def test_a_used_codes_ballot_page_says_so_before_any_answering(
    client: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id, link = voting.poll["id"], token(voting.codes["north"][0])
    fresh = await client.get(f"/v/{link}/polls/{poll_id}")
    assert fresh.status_code == 200 and "already been used" not in fresh.text
    assert (await vote(client, poll_id, link, voting.full_ballot())).status_code == 201
    used = await client.get(f"/v/{link}/polls/{poll_id}")
    assert used.status_code == 409 and "This code has already been used" in used.text
    assert "Check your answers" not in used.text  # no blank ballot to fill in for nothing


async def test_polls_show_when_they_actually_opened_and_closed(
    officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id, pilot_id = voting.poll["id"], voting.pilot["id"]
    overview = (await officer.get(f"/council/pilots/{pilot_id}")).text
    assert "Opened " in overview and "When opened" not in overview
    await officer_closes(officer, poll_id)
    page = (await officer.get(f"/council/polls/{poll_id}")).text
    assert "Opened " in page and "Closed " in page and "When an officer" not in page


async def test_staff_preview_a_draft_ballot_that_cannot_be_sent(officer: httpx.AsyncClient) -> None:
    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"])
    page = (await officer.get(f"/council/polls/{poll['id']}")).text
    assert f'href="/council/polls/{poll["id"]}/preview"' in page
    shown = await officer.get(f"/council/polls/{poll['id']}/preview")
    assert shown.status_code == 200
    assert "Should the library open on Sundays?" in shown.text and "Nothing can be sent" in shown.text
    assert "Check your answers" not in shown.text
    assert (await officer.post(f"/council/polls/{poll['id']}/preview")).status_code == 405


async def test_the_front_page_leads_to_entering_a_code_and_the_service_has_an_icon(
    client: httpx.AsyncClient,
) -> None:
    home = (await client.get("/")).text
    assert 'href="/vote"' in home and "Enter your code" in home
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert (await client.get("/static/favicon.svg")).status_code == 200


async def test_the_stylesheet_and_scripts_go_compressed_but_pages_do_not(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/static/app.css", headers={"Accept-Encoding": "gzip"}) as css:
        assert css.status_code == 200 and css.headers["content-encoding"] == "gzip"
        sent = b"".join([chunk async for chunk in css.aiter_raw()])
    assert len(sent) < 20_000 < len(gzip.decompress(sent))
    assert (await client.get("/static/app.js", headers={"Accept-Encoding": "gzip"})).headers[
        "content-encoding"
    ] == "gzip"
    page = await client.get("/vote", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in page.headers  # a page with a CSRF token: never (BREACH)
