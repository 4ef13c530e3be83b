"""Adversary: the next person at a shared computer (a library PC, a council hot desk) or a
caching proxy in between. Opens the browser's history or cache after a resident voted or an
officer issued codes, and reads what the pages showed: a resident's voting link and receipt,
a staff invitation link. Every page but the static assets says `Cache-Control: no-store`."""

from __future__ import annotations

import httpx

from tests.factories import csrf_from
from tests.voting_setup import Setup, token


def _not_kept(response: httpx.Response) -> None:
    assert response.headers.get("cache-control") == "no-store", (response.url, response.headers)


async def test_a_residents_voting_link_and_ballot_are_not_kept(
    officer: httpx.AsyncClient, voting: Setup
) -> None:
    card = voting.codes["north"][0]
    link = f"/v/{token(card)}"
    _not_kept(await officer.get(link))
    _not_kept(await officer.get(f"{link}/polls/{voting.poll['id']}"))
    _not_kept(await officer.get("/vote"))
    _not_kept(await officer.get(f"/c/{card.short_code}"))


async def test_staff_pages_and_invitation_links_are_not_kept(
    officer: httpx.AsyncClient, voting: Setup
) -> None:
    staff_url = f"/council/pilots/{voting.pilot['id']}/staff"
    page = await officer.get(staff_url)
    _not_kept(page)
    invited = await officer.post(
        staff_url,
        data={"csrf_token": csrf_from(page.text), "email": "new@council.example", "role": "analyst"},
    )
    assert "/staff/welcome?token=" in invited.text
    _not_kept(invited)
    for url in ("/council", f"/council/pilots/{voting.pilot['id']}", "/sign-in", "/api/session"):
        _not_kept(await officer.get(url))


async def test_static_assets_stay_cacheable(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")
