"""Officers configure pilots, areas and staff through the JSON API (real database and Redis)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polls.store.models import Area, AuditEntry, Pilot
from tests.conftest import count, sign_in
from tests.factories import make_pilot, pilot_body


async def test_site_admin_creates_a_pilot_and_becomes_its_admin(officer: httpx.AsyncClient) -> None:
    pilot = await make_pilot(officer, languages=["en", "cy"])
    assert pilot["languages"] == ["en", "cy"]
    staff = (await officer.get(f"/api/pilots/{pilot['id']}/staff")).json()
    assert [(s["email"], s["role"]) for s in staff] == [("admin@council.example", "council_admin")]
    listed = (await officer.get("/api/pilots")).json()
    assert [p["name"] for p in listed] == ["Northshire Democracy Pilot"]


async def test_invalid_pilot_gets_field_errors_and_writes_nothing(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    audit_before = await count(db, AuditEntry)
    body = pilot_body(name="", languages=["english"], ends_on="2026-01-01", contact_email="not-an-email")
    response = await officer.post("/api/pilots", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "validation_failed"
    fields = {e["field"] for e in payload["errors"]}
    assert {"name", "languages", "contact_email"} <= fields
    assert await count(db, Pilot) == 0
    assert await count(db, AuditEntry) == audit_before


async def test_end_before_start_is_refused(officer: httpx.AsyncClient) -> None:
    response = await officer.post(
        "/api/pilots", json=pilot_body(starts_on="2027-06-01", ends_on="2027-01-01")
    )
    assert response.status_code == 422
    assert "end date" in response.json()["errors"][0]["message"]


async def test_non_json_and_malformed_bodies_get_clear_codes(officer: httpx.AsyncClient) -> None:
    response = await officer.post(
        "/api/pilots", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    response = await officer.post("/api/pilots", content=b"name=x", headers={"content-type": "text/plain"})
    assert response.json()["code"] == "unsupported_media_type"
    response = await officer.post("/api/pilots", json=["a", "list"])
    assert response.status_code == 422


@pytest.mark.parametrize("text", ["Nul\u0000here", "Bell\u0007", "Escape\u001b[31m"])
async def test_text_with_control_characters_is_refused_not_a_server_error(
    officer: httpx.AsyncClient, text: str
) -> None:
    # PostgreSQL refuses NUL outright: without the check this was a 500 there.
    response = await officer.post("/api/pilots", json=pilot_body(name=text))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"
    assert (await officer.get("/api/pilots")).json() == []
    pilot = await make_pilot(officer, accessibility_statement="Line one\n\tLine two")  # tabs, newlines fine
    assert pilot["accessibility_statement"] == "Line one\n\tLine two"


async def test_unknown_fields_are_refused(officer: httpx.AsyncClient) -> None:
    response = await officer.post("/api/pilots", json=pilot_body(mayor="someone"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mayor"


async def test_unknown_pilot_is_404(officer: httpx.AsyncClient) -> None:
    response = await officer.get("/api/pilots/999")
    assert response.status_code == 404
    assert response.json()["code"] == "pilot_not_found"


async def test_not_signed_in_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/pilots")
    assert response.status_code == 401
    assert response.json()["code"] == "not_signed_in"


async def test_state_change_without_csrf_header_is_refused(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    del officer.headers["X-CSRF-Token"]
    response = await officer.post("/api/pilots", json=pilot_body())
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    officer.headers["X-CSRF-Token"] = "forged"
    assert (await officer.post("/api/pilots", json=pilot_body())).status_code == 403
    assert await count(db, Pilot) == 0


async def test_areas_are_added_changed_and_listed(officer: httpx.AsyncClient) -> None:
    pilot = await make_pilot(officer)
    base = f"/api/pilots/{pilot['id']}/areas"
    created = await officer.post(
        base, json={"name": "Riverside", "code": "E05000002", "postcodes": ["ne1 4st", "NE2 1"]}
    )
    assert created.status_code == 201
    assert created.json()["postcodes"] == ["NE1 4ST", "NE2 1"]
    area_id = created.json()["id"]
    changed = await officer.put(f"{base}/{area_id}", json={"name": "Riverside Ward", "code": "E05000002"})
    assert changed.json()["name"] == "Riverside Ward"
    assert [a["name"] for a in (await officer.get(base)).json()] == ["Riverside Ward"]


async def test_duplicate_area_code_and_bad_postcode_are_refused(officer: httpx.AsyncClient) -> None:
    pilot = await make_pilot(officer)
    base = f"/api/pilots/{pilot['id']}/areas"
    assert (await officer.post(base, json={"name": "One", "code": "A1"})).status_code == 201
    duplicate = await officer.post(base, json={"name": "Two", "code": "A1"})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["field"] == "code"
    bad = await officer.post(base, json={"name": "Three", "code": "A3", "postcodes": ["not a postcode"]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "postcodes"


async def test_area_csv_import_adds_every_row(officer: httpx.AsyncClient, db: AsyncSession) -> None:
    pilot = await make_pilot(officer)
    csv = "name,code,postcodes\nNorthgate,E05000001,NE1 1;NE1 2\nSouthfields,E05000003,ne3 4ab\n"
    response = await officer.post(
        f"/api/pilots/{pilot['id']}/areas/import", content=csv.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2
    assert await count(db, Area) == 2


async def test_area_csv_with_a_bad_row_imports_nothing_and_reports_each_line(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot = await make_pilot(officer)
    csv = "name,code,postcodes\nNorthgate,E05000001,NE1 1\n,E05000002,\nEast,E05000001,\nWest,W 1,XX\n"
    response = await officer.post(
        f"/api/pilots/{pilot['id']}/areas/import", content=csv.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert "line 3.name" in fields
    assert "line 4.code" in fields
    assert any(f.startswith("line 5.") for f in fields)
    assert await count(db, Area) == 0


async def test_area_in_use_by_a_poll_cannot_be_deleted(officer: httpx.AsyncClient) -> None:
    pilot = await make_pilot(officer)
    area = (
        await officer.post(f"/api/pilots/{pilot['id']}/areas", json={"name": "North", "code": "N1"})
    ).json()
    poll = await officer.post(
        f"/api/pilots/{pilot['id']}/polls", json={"title": "Bins", "area_ids": [area["id"]]}
    )
    assert poll.status_code == 201
    response = await officer.delete(f"/api/pilots/{pilot['id']}/areas/{area['id']}")
    assert response.status_code == 409
    assert response.json()["code"] == "area_in_use"


async def test_new_staff_get_an_invitation_and_their_role_limits_them(
    officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    pilot = await make_pilot(officer)
    response = await officer.put(
        f"/api/pilots/{pilot['id']}/staff",
        json={"email": "ana@council.example", "role": "analyst", "name": "Ana"},
    )
    assert response.status_code == 201
    link = response.json()["invitation_link"]
    token = link.split("token=")[1]

    # The analyst follows the link, chooses a password, and is signed in.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as analyst:
        page = await analyst.get(f"/staff/welcome?token={token}")
        assert page.status_code == 200
        csrf = (await analyst.get("/api/session")).json()["csrf_token"]
        done = await analyst.post(
            f"/staff/welcome?token={token}",
            data={
                "csrf_token": csrf,
                "password": "a long analyst password",
                "confirm": "a long analyst password",
            },
        )
        assert done.status_code == 303
        await sign_in(analyst, "ana@council.example", "a long analyst password")
        assert (await analyst.get(f"/api/pilots/{pilot['id']}")).status_code == 200
        forbidden = await analyst.put(f"/api/pilots/{pilot['id']}", json=pilot_body(name="Renamed pilot"))
        assert forbidden.status_code == 403
        assert forbidden.json()["code"] == "forbidden"
        assert (await analyst.post("/api/pilots", json=pilot_body())).status_code == 403
        # The invitation cannot be used twice.
        again = await analyst.post(
            f"/staff/welcome?token={token}",
            data={"csrf_token": analyst.headers["X-CSRF-Token"], "password": "x" * 20, "confirm": "x" * 20},
        )
        assert again.status_code == 403


async def test_staff_of_another_pilot_see_404_not_its_contents(
    officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    mine = await make_pilot(officer, name="Pilot Mine")
    other = await make_pilot(officer, name="Pilot Other")
    response = await officer.put(
        f"/api/pilots/{mine['id']}/staff", json={"email": "mod@council.example", "role": "moderator"}
    )
    assert response.status_code == 201
    token = response.json()["invitation_link"].split("token=")[1]
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as moderator:
        csrf = (await moderator.get("/api/session")).json()["csrf_token"]
        await moderator.post(
            f"/staff/welcome?token={token}",
            data={"csrf_token": csrf, "password": "moderator pass 1", "confirm": "moderator pass 1"},
        )
        await sign_in(moderator, "mod@council.example", "moderator pass 1")
        assert [p["id"] for p in (await moderator.get("/api/pilots")).json()] == [mine["id"]]
        assert (await moderator.get(f"/api/pilots/{other['id']}")).status_code == 404


async def test_pilot_guards_answer_404_outside_the_pilot_and_403_above_the_role(
    officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    mine = await make_pilot(officer, name="Pilot Mine")
    other = await make_pilot(officer, name="Pilot Other")
    response = await officer.put(
        f"/api/pilots/{mine['id']}/staff", json={"email": "mod@council.example", "role": "moderator"}
    )
    token = response.json()["invitation_link"].split("token=")[1]
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as moderator:
        csrf = (await moderator.get("/api/session")).json()["csrf_token"]
        await moderator.post(
            f"/staff/welcome?token={token}",
            data={"csrf_token": csrf, "password": "moderator pass 1", "confirm": "moderator pass 1"},
        )
        await sign_in(moderator, "mod@council.example", "moderator pass 1")
        above = await moderator.get(f"/api/pilots/{mine['id']}/audit")
        assert (above.status_code, above.json()["code"]) == (403, "forbidden")
        outside = await moderator.get(f"/api/pilots/{other['id']}/audit")
        assert (outside.status_code, outside.json()["code"]) == (404, "pilot_not_found")
        assert (await moderator.get(f"/council/pilots/{mine['id']}/audit")).status_code == 403
        assert (await moderator.get(f"/council/pilots/{other['id']}/areas")).status_code == 404
        assert (await moderator.get(f"/council/pilots/{mine['id']}/areas")).status_code == 200
