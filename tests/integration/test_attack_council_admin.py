"""Adversary: a council admin of one pilot (not a site admin) curious about, or hostile to,
people outside it. Adds a stranger's email to their pilot to learn whether an account exists
and whose it is, and demotes or removes the site admin's role in their pilot. Adding staff
answers the same whether or not the account exists (and shows nobody's real name until they
accept), and a site admin's role is for site admins to change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from polls.domain.pilots import Role
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import StaffRole
from polls.store.staff import create_staff
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, sign_in
from tests.factories import csrf_from, make_pilot

CAL_EMAIL = "cal@council.example"
CAL_PASSWORD = "council admin passphrase"
OUTSIDER = "olga@elsewhere.example"


@pytest.fixture
async def setting(
    officer: httpx.AsyncClient, settings: Settings
) -> AsyncIterator[tuple[int, httpx.AsyncClient]]:
    """A pilot with the site admin in it as analyst, Olga on another pilot only, and Cal,
    the pilot's council admin, signed in."""
    pilot = await make_pilot(officer)
    other = await make_pilot(officer, name="Southshire Pilot")
    await officer.put(f"/api/pilots/{pilot['id']}/staff", json={"email": ADMIN_EMAIL, "role": "analyst"})
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        cal = await create_staff(
            session, email=CAL_EMAIL, name="Cal Council", password=CAL_PASSWORD, actor="t"
        )
        session.add(StaffRole(pilot_id=pilot["id"], staff_id=cal.id, role=Role.COUNCIL_ADMIN))
        olga = await create_staff(
            session, email=OUTSIDER, name="Olga Outsider", password="olga's own passphrase", actor="t"
        )
        session.add(StaffRole(pilot_id=other["id"], staff_id=olga.id, role=Role.ANALYST))
    await engine.dispose()
    async with httpx.AsyncClient(transport=officer._transport, base_url="http://testserver") as http:
        await sign_in(http, CAL_EMAIL, CAL_PASSWORD)
        yield pilot["id"], http


def _shape(response: httpx.Response) -> tuple[int, list[str]]:
    return response.status_code, sorted(response.json())


async def test_adding_an_existing_account_answers_as_for_a_new_one(
    setting: tuple[int, httpx.AsyncClient],
) -> None:
    pilot_id, cal = setting
    url = f"/api/pilots/{pilot_id}/staff"
    existing = await cal.put(url, json={"email": OUTSIDER, "role": "analyst", "name": "Olga?"})
    new = await cal.put(url, json={"email": "nobody@elsewhere.example", "role": "analyst", "name": "Nobody"})
    assert _shape(existing) == _shape(new)
    assert "Olga Outsider" not in existing.text
    listed = await cal.get(url)
    assert "Olga Outsider" not in listed.text
    page = await cal.get(f"/council/pilots/{pilot_id}/staff")
    assert "Olga Outsider" not in page.text


async def test_the_invitation_link_cannot_take_over_an_existing_account(
    setting: tuple[int, httpx.AsyncClient], client: httpx.AsyncClient
) -> None:
    pilot_id, cal = setting
    response = await cal.put(f"/api/pilots/{pilot_id}/staff", json={"email": OUTSIDER, "role": "analyst"})
    link = response.json()["invitation_link"].removeprefix("http://127.0.0.1:8000")
    async with httpx.AsyncClient(transport=cal._transport, base_url="http://testserver") as stranger:
        page = await stranger.get(link)
        assert 'name="password"' not in page.text


async def test_a_council_admin_cannot_demote_or_remove_the_site_admin(
    setting: tuple[int, httpx.AsyncClient], admin: int
) -> None:
    pilot_id, cal = setting
    url = f"/api/pilots/{pilot_id}/staff"
    demoted = await cal.put(url, json={"email": ADMIN_EMAIL, "role": "moderator"})
    assert demoted.status_code == 403
    removed = await cal.delete(f"{url}/{admin}")
    assert removed.status_code == 403
    roles = {r["email"]: r["role"] for r in (await cal.get(url)).json()}
    assert roles[ADMIN_EMAIL] == "analyst"
    assert ADMIN_PASSWORD  # the site admin still signs in as before


async def test_the_invited_person_signs_in_and_accepts(setting: tuple[int, httpx.AsyncClient]) -> None:
    pilot_id, cal = setting
    await cal.put(f"/api/pilots/{pilot_id}/staff", json={"email": OUTSIDER, "role": "moderator"})
    async with httpx.AsyncClient(transport=cal._transport, base_url="http://testserver") as olga:
        await sign_in(olga, OUTSIDER, "olga's own passphrase")
        assert (await olga.get(f"/api/pilots/{pilot_id}")).status_code in {403, 404}
        home = await olga.get("/council")
        assert "You are invited to Northshire Democracy Pilot as Moderator" in home.text
        accepted = await olga.post(
            f"/council/invitations/{pilot_id}/accept", data={"csrf_token": csrf_from(home.text)}
        )
        assert accepted.status_code == 303
        assert (await olga.get(f"/api/pilots/{pilot_id}")).status_code == 200
    roles = {r["email"]: r["name"] for r in (await cal.get(f"/api/pilots/{pilot_id}/staff")).json()}
    assert roles[OUTSIDER] == "Olga Outsider"  # once she accepted
