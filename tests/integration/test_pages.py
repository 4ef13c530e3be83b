"""Officer pages work without JavaScript: forms post, errors show next to fields, nothing half-saved."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polls.store.models import Area, Pilot, Poll, Question
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, count
from tests.factories import csrf_from


@pytest.fixture
async def browser(client: httpx.AsyncClient, admin: int) -> httpx.AsyncClient:
    """Signed in through the sign-in form, as a person would."""
    page = await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"csrf_token": csrf_from(page.text), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 303
    return client


async def submit(
    browser: httpx.AsyncClient, url: str, data: dict[str, str], files: dict | None = None
) -> httpx.Response:
    form_page = await browser.get(url)
    return await browser.post(url, data={"csrf_token": csrf_from(form_page.text), **data}, files=files)


PILOT_FORM = {
    "name": "Riverdale Pilot",
    "region": "South West",
    "council": "Riverdale Council",
    "languages": "en, cy",
    "starts_on": "2027-01-01",
    "ends_on": "2027-06-30",
    "contact_email": "hello@riverdale.example",
}


async def create_pilot(browser: httpx.AsyncClient) -> int:
    response = await submit(browser, "/council/pilots/new", PILOT_FORM)
    assert response.status_code == 303
    return int(response.headers["location"].rsplit("/", 1)[1])


async def test_signed_out_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/council/pilots/1")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/council/pilots/1"


async def test_officer_creates_a_pilot_through_the_form(browser: httpx.AsyncClient) -> None:
    pilot_id = await create_pilot(browser)
    page = await browser.get(f"/council/pilots/{pilot_id}")
    assert page.status_code == 200
    assert "Riverdale Pilot" in page.text
    assert "en, cy" in page.text


async def test_invalid_pilot_form_shows_summary_and_field_messages(
    browser: httpx.AsyncClient, db: AsyncSession
) -> None:
    bad = {**PILOT_FORM, "name": "", "contact_email": "nope", "ends_on": "2026-01-01"}
    response = await submit(browser, "/council/pilots/new", bad)
    assert response.status_code == 422
    html = response.text
    assert "There is a problem" in html
    assert 'href="#name"' in html and 'id="name-error"' in html
    assert 'id="contact_email-error"' in html
    assert 'aria-describedby="name-hint name-error"' in html
    assert 'value="Riverdale Council"' in html  # what was typed is kept
    assert await count(db, Pilot) == 0


async def test_areas_added_by_form_and_imported_from_csv(
    browser: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id = await create_pilot(browser)
    url = f"/council/pilots/{pilot_id}/areas"
    added = await submit(
        browser, url, {"name": "Old Town", "code": "E05000010", "postcodes": "rd1 1\nRD1 2AB"}
    )
    assert added.status_code == 303
    csv = b"name,code,postcodes\nNew Town,E05000011,RD2 1\nHarbour,E05000012,RD3 1;RD3 2\n"
    imported = await submit(browser, url, {}, files={"file": ("areas.csv", csv, "text/csv")})
    assert imported.status_code == 303
    page = await browser.get(url)
    assert "Harbour" in page.text and "RD1 2AB" in page.text
    assert await count(db, Area) == 3


async def test_csv_with_problems_shows_a_report_and_imports_nothing(
    browser: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id = await create_pilot(browser)
    csv = b"name,code,postcodes\nGood,G1,\n,G2,\nBad postcode,G3,12345\n"
    response = await submit(
        browser, f"/council/pilots/{pilot_id}/areas", {}, files={"file": ("a.csv", csv, "text/csv")}
    )
    assert response.status_code == 422
    assert 'id="import-report"' in response.text
    assert "line 3.name" in response.text and "line 4.postcodes" in response.text
    assert await count(db, Area) == 0


async def test_officer_drafts_a_poll_adds_questions_reorders_and_opens_it(
    browser: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id = await create_pilot(browser)
    created = await submit(
        browser,
        f"/council/pilots/{pilot_id}/polls/new",
        {
            "title": "Parks survey",
            "description": "About parks",
            "opens_at": "2030-05-01T09:00",
            "closes_at": "2030-05-20T17:00",
            "results_visibility": "after_close",
            "assurance": "poll_card",
        },
    )
    assert created.status_code == 303
    poll_url = created.headers["location"]
    poll_id = int(poll_url.rsplit("/", 1)[1])
    page = await browser.get(poll_url)
    assert "1 May 2030, 09:00 BST" in page.text  # typed in local time, shown back in local time

    first = await submit(
        browser,
        f"{poll_url}/questions/new?kind=budget",
        {
            "kind": "budget",
            "title": "Share the parks budget",
            "budget_total": "5000",
            "options": "Benches | 2000\nNew trees | £3,000",
        },
    )
    assert first.status_code == 303
    second = await submit(
        browser,
        f"{poll_url}/questions/new?kind=scale",
        {
            "kind": "scale",
            "title": "How clean are the parks?",
            "scale_min": "1",
            "scale_max": "5",
            "min_label": "Filthy",
            "max_label": "Spotless",
        },
    )
    assert second.status_code == 303
    poll = (await browser.get(f"/api/polls/{poll_id}")).json()
    assert [q["kind"] for q in poll["questions"]] == ["budget", "scale"]
    assert [o["cost"] for o in poll["questions"][0]["options"]] == [2000, 3000]

    scale_id = poll["questions"][1]["id"]
    page = await browser.get(poll_url)
    moved = await browser.post(
        f"{poll_url}/questions/{scale_id}/move", data={"csrf_token": csrf_from(page.text), "direction": "up"}
    )
    assert moved.status_code == 303
    poll = (await browser.get(f"/api/polls/{poll_id}")).json()
    assert [q["kind"] for q in poll["questions"]] == ["scale", "budget"]

    page = await browser.get(poll_url)
    opened = await browser.post(f"{poll_url}/actions/open", data={"csrf_token": csrf_from(page.text)})
    assert opened.status_code == 303
    page = await browser.get(poll_url)
    assert "Questions cannot change" in page.text
    assert "/questions/new" not in page.text
    assert await count(db, Question) == 2


async def test_officer_chooses_the_counting_rules_of_a_question_on_its_form(
    browser: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id = await create_pilot(browser)
    created = await submit(browser, f"/council/pilots/{pilot_id}/polls/new", {"title": "Ward seats"})
    poll_url = created.headers["location"]
    form = await browser.get(f"{poll_url}/questions/new?kind=ranked")
    assert "Tied or skipped ranks" in form.text and "Meek" in form.text
    fields = {"kind": "ranked", "title": "Elect two", "options": "Ash\nBirch\nCedar", "seats": "2"}
    refused = await submit(
        browser, f"{poll_url}/questions/new?kind=ranked", fields | {"stv_transfers": "gregory"}
    )
    assert refused.status_code == 422 and "The surplus transfer method is one of" in refused.text
    assert await count(db, Question) == 0
    chosen = {"ranking_rule": "us", "stv_transfers": "meek"}
    assert (
        await submit(browser, f"{poll_url}/questions/new?kind=ranked", fields | chosen)
    ).status_code == 303
    poll_id = int(poll_url.rsplit("/", 1)[1])
    settings = (await browser.get(f"/api/polls/{poll_id}")).json()["questions"][0]["settings"]
    assert (settings["ranking_rule"], settings["stv_transfers"]) == ("us", "meek")


async def test_invalid_question_form_keeps_input_and_explains(
    browser: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id = await create_pilot(browser)
    created = await submit(browser, f"/council/pilots/{pilot_id}/polls/new", {"title": "Transport"})
    poll_url = created.headers["location"]
    response = await submit(
        browser,
        f"{poll_url}/questions/new?kind=multiple",
        {
            "kind": "multiple",
            "title": "Which buses?",
            "options": "Route 1\nRoute 2",
            "min_choices": "3",
            "max_choices": "2",
        },
    )
    assert response.status_code == 422
    assert "cannot exceed the maximum" in response.text
    assert "Route 2" in response.text
    assert await count(db, Question) == 0


async def test_editing_an_open_poll_page_says_why_not(browser: httpx.AsyncClient, db: AsyncSession) -> None:
    pilot_id = await create_pilot(browser)
    created = await submit(browser, f"/council/pilots/{pilot_id}/polls/new", {"title": "Open poll"})
    poll_url = created.headers["location"]
    await submit(
        browser, f"{poll_url}/questions/new?kind=comment", {"kind": "comment", "title": "Tell us more"}
    )
    page = await browser.get(poll_url)
    await browser.post(f"{poll_url}/actions/open", data={"csrf_token": csrf_from(page.text)})
    response = await browser.post(
        f"{poll_url}/edit", data={"csrf_token": csrf_from(page.text), "title": "Changed"}
    )
    assert response.status_code == 409
    assert "only draft polls" in response.text
    assert await count(db, Poll) == 1


async def test_staff_page_adds_someone_and_shows_their_invitation(browser: httpx.AsyncClient) -> None:
    pilot_id = await create_pilot(browser)
    response = await submit(
        browser,
        f"/council/pilots/{pilot_id}/staff",
        {"email": "mo@riverdale.example", "name": "Mo Derator", "role": "moderator"},
    )
    assert response.status_code == 201
    assert 'id="invitation-link"' in response.text
    assert "/staff/welcome?token=si_" in response.text
    missing_role = await submit(
        browser, f"/council/pilots/{pilot_id}/staff", {"email": "x@riverdale.example"}
    )
    assert missing_role.status_code == 422
    assert 'id="role-error"' in missing_role.text


async def test_audit_page_lists_changes(browser: httpx.AsyncClient) -> None:
    pilot_id = await create_pilot(browser)
    page = await browser.get(f"/council/pilots/{pilot_id}/audit")
    assert page.status_code == 200
    assert "pilot.create" in page.text


async def test_unknown_pages_get_a_plain_404(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/council/polls/9999")
    assert response.status_code == 404
    assert "There is no such poll" in response.text
    assert (await browser.get("/no/such/page")).status_code == 404
