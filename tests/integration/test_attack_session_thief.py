"""Adversary: a session thief. Has copied an officer's session cookie (a shared computer, a
browser extension, a proxy log) and keeps using it after the officer signs out. Signing out,
a password change and an admin's "sign out everywhere" must each end the stolen session."""

from __future__ import annotations

import httpx

from polls.domain.pilots import Role
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import StaffRole
from polls.store.staff import create_staff
from tests.conftest import ADMIN_EMAIL, sign_in
from tests.factories import csrf_from, make_pilot

OTHER_PASSWORD = "another long passphrase"


async def _steal(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A second client of the same app carrying a copy of the officer's cookie and CSRF header."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    thief = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    thief.cookies.set("polls_session", client.cookies["polls_session"])
    thief.headers["X-CSRF-Token"] = client.headers["X-CSRF-Token"]
    return thief


async def test_a_copied_cookie_stops_working_when_the_officer_signs_out(
    client: httpx.AsyncClient, admin: int
) -> None:
    await sign_in(client)
    async with await _steal(client) as thief:
        assert (await thief.get("/api/pilots")).status_code == 200
        assert (await client.delete("/api/session")).status_code == 204
        assert (await thief.get("/api/pilots")).status_code == 401
        assert (await thief.get("/api/session")).json()["staff"] is None


async def test_sign_out_everywhere_ends_every_session_of_the_person(
    client: httpx.AsyncClient, admin: int
) -> None:
    await sign_in(client)
    async with await _steal(client) as thief:
        response = await client.delete(f"/api/staff/{admin}/sessions")
        assert response.status_code == 204, response.text
        assert (await thief.get("/api/pilots")).status_code == 401
    assert (await client.get("/api/pilots")).status_code == 401
    await sign_in(client, ADMIN_EMAIL)
    assert (await client.get("/api/pilots")).status_code == 200


async def _council_admin(settings: Settings, pilot_id: int, email: str) -> None:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        staff = await create_staff(
            session, email=email, name="Cal Council", password=OTHER_PASSWORD, actor="test"
        )
        session.add(StaffRole(pilot_id=pilot_id, staff_id=staff.id, role=Role.COUNCIL_ADMIN))
    await engine.dispose()


async def test_a_council_admin_signs_out_their_staff_but_not_the_site_admin(
    officer: httpx.AsyncClient, settings: Settings, admin: int
) -> None:
    pilot = await make_pilot(officer)
    await officer.put(f"/api/pilots/{pilot['id']}/staff", json={"email": ADMIN_EMAIL, "role": "analyst"})
    await _council_admin(settings, pilot["id"], "cal@council.example")
    other = await officer.put(
        f"/api/pilots/{pilot['id']}/staff", json={"email": "mo@council.example", "role": "moderator"}
    )
    transport = officer._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as council_admin:
        await sign_in(council_admin, "cal@council.example", OTHER_PASSWORD)
        refused = await council_admin.delete(f"/api/staff/{admin}/sessions")
        assert refused.status_code == 404
        assert (await officer.get("/api/pilots")).status_code == 200
        done = await council_admin.delete(f"/api/staff/{other.json()['staff_id']}/sessions")
        assert done.status_code == 204


async def test_the_staff_page_signs_someone_out_everywhere(
    officer: httpx.AsyncClient, settings: Settings, admin: int
) -> None:
    pilot = await make_pilot(officer)
    await _council_admin(settings, pilot["id"], "cal@council.example")
    async with httpx.AsyncClient(transport=officer._transport, base_url="http://testserver") as victim:
        await sign_in(victim, "cal@council.example", OTHER_PASSWORD)
        page = await officer.get(f"/council/pilots/{pilot['id']}/staff")
        assert "Sign out everywhere" in page.text
        staff_id = (await victim.get("/api/session")).json()["staff"]["id"]
        response = await officer.post(
            f"/council/pilots/{pilot['id']}/staff/{staff_id}/sign-out",
            data={"csrf_token": csrf_from(page.text)},
        )
        assert response.status_code == 303
        assert (await victim.get("/api/pilots")).status_code == 401
