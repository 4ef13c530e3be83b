"""Officers issue, cancel and re-issue voter codes: API, pages and `polls codes` (real databases)."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import segno
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.cards import qr_svg, short_link_qr
from polls.domain.access import Actor
from polls.domain.codes import format_short_code, normalise_short_code, short_code_from_bits
from polls.domain.pilots import AreaSpec, PilotSpec
from polls.domain.voter_secrets import short_digest
from polls.store import pilots as pilot_store
from polls.store.codes import ballot_key, find_by_reference, find_by_short_code
from polls.store.db import open_engine, sessions_for
from polls.store.models import AuditEntry, CodeBatch, VoterCode
from polls.store.officer_keys import set_officer_key
from polls.store.staff import create_staff
from polls.tokens import VOTER_CODE, Tokens
from tests.conftest import SECRET, count, in_thread, sign_in
from tests.factories import OFFICER_PRIVATE_KEY, OFFICER_PUBLIC_KEY, make_pilot
from tests.integration.test_pages import csrf_from

BASE = "http://127.0.0.1:8000"  # the settings' default BASE_URL
KEY = {"officer_key": OFFICER_PRIVATE_KEY}  # a replacement card needs the returning officer's key
COLUMNS = ["reference", "area", "link", "short_code", "short_link", "qr_svg"]


async def pilot_with_area(
    http: httpx.AsyncClient, code: str = "E05000001", **changes: Any
) -> tuple[int, int]:
    pilot = await make_pilot(http, **changes)
    area = await http.post(f"/api/pilots/{pilot['id']}/areas", json={"name": "Northgate", "code": code})
    assert area.status_code == 201, area.text
    return pilot["id"], area.json()["id"]


def csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in reader]


async def issue(http: httpx.AsyncClient, pilot_id: int, area_id: int, n: int) -> list[dict[str, str]]:
    response = await http.post(f"/api/pilots/{pilot_id}/codes", json={"area_id": area_id, "count": n})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    return csv_rows(response.text)


def forms_only(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """Drop the API's CSRF header: from now on forms must carry the page's token, as in a browser."""
    del http.headers["X-CSRF-Token"]
    return http


async def done_reading(db: AsyncSession) -> None:
    """End the read transaction (so later reads see new writes), keeping what was loaded."""
    db.expunge_all()
    await db.rollback()


async def snapshot(db: AsyncSession) -> tuple[int, int, int]:
    return await count(db, CodeBatch), await count(db, VoterCode), await count(db, AuditEntry)


# The API


async def test_officer_issues_a_batch_as_a_mail_merge_csv(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    audit_before = await count(db, AuditEntry)
    rows = await issue(officer, pilot_id, area_id, 120)

    assert len(rows) == 120
    assert len({r["reference"] for r in rows}) == len({r["short_code"] for r in rows}) == 120
    tokens = Tokens((SECRET,))
    key = await ballot_key(db)
    for row in rows:
        assert row["area"] == "E05000001"
        token = row["link"].removeprefix(f"{BASE}/v/")
        # The link carries the short code: the server needs it to unwrap the card's voter secret.
        assert tokens.read(VOTER_CODE, token) == normalise_short_code(row["short_code"])
        code = normalise_short_code(row["short_code"])
        assert format_short_code(code) == row["short_code"]
        assert row["short_link"] == f"{BASE}/c/{code}"
        assert row["qr_svg"].startswith("<svg") and "<title>" in row["qr_svg"]
    stored = (await db.scalars(select(VoterCode).order_by(VoterCode.id))).all()
    await done_reading(db)
    assert [c.reference for c in stored] == [r["reference"] for r in rows]
    # Only a keyed hash of each short code is kept, and it finds the code again.
    for code, row in zip(stored, rows, strict=True):
        short = normalise_short_code(row["short_code"])
        assert code.short_digest == short_digest(key, short)
        assert not code.revoked and code.replaces is None and code.area_id == area_id
    found = await find_by_short_code(db, short_digest(key, normalise_short_code(rows[7]["short_code"])))
    assert found is not None and found.reference == rows[7]["reference"]
    assert (await find_by_reference(db, rows[3]["reference"])) is not None
    await done_reading(db)

    # One audit entry for the whole batch, not one per code; it names no code.
    assert await count(db, AuditEntry) == audit_before + 1
    entry = (await db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))).one()
    await done_reading(db)
    assert entry.action == "codes.issue"
    assert entry.after["count"] == 120 and entry.after["area"] == "E05000001"
    assert rows[0]["reference"] not in str(entry.after)

    batches = (await officer.get(f"/api/pilots/{pilot_id}/codes")).json()
    assert [(b["area_code"], b["count"], b["revoked"]) for b in batches] == [("E05000001", 120, 0)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": -5}, "count"),
        ({"count": 200_001}, "count"),
        ({"count": "many"}, "count"),
        ({"count": 2.5}, "count"),
        ({}, "count"),
        ({"count": 3, "colour": "red"}, "colour"),
    ],
)
async def test_bad_counts_are_refused_and_write_nothing(
    officer: httpx.AsyncClient, db: AsyncSession, body: dict[str, Any], field: str
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    before = await snapshot(db)
    response = await officer.post(f"/api/pilots/{pilot_id}/codes", json={"area_id": area_id, **body})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["errors"][0]["field"] == field
    assert await snapshot(db) == before


async def test_unknown_or_foreign_area_and_unknown_pilot_are_404(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id, _ = await pilot_with_area(officer)
    _, other_area = await pilot_with_area(officer, code="W05000002", name="Other Pilot")
    before = await snapshot(db)
    for url, area in [
        (f"/api/pilots/{pilot_id}/codes", 99_999),
        (f"/api/pilots/{pilot_id}/codes", other_area),
        ("/api/pilots/99999/codes", other_area),
    ]:
        response = await officer.post(url, json={"area_id": area, "count": 3})
        assert response.status_code == 404
        assert response.json()["code"] in ("area_not_found", "pilot_not_found")
    assert await snapshot(db) == before


async def test_lost_card_is_cancelled_then_cannot_be_cancelled_again(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    rows = await issue(officer, pilot_id, area_id, 3)
    lost = rows[1]["reference"]
    response = await officer.post(f"/api/pilots/{pilot_id}/codes/{lost}/revoke")
    assert response.status_code == 200
    assert response.json() == {"reference": lost, "area_code": "E05000001", "revoked": True}
    before = await snapshot(db)
    again = await officer.post(f"/api/pilots/{pilot_id}/codes/{lost}/revoke")
    assert again.status_code == 409 and again.json()["code"] == "code_revoked"
    unknown = await officer.post(f"/api/pilots/{pilot_id}/codes/NOSUCHREFERENCE/revoke")
    assert unknown.status_code == 404 and unknown.json()["code"] == "code_not_found"
    assert await snapshot(db) == before
    codes = {c.reference: c.revoked for c in (await db.scalars(select(VoterCode))).all()}
    await done_reading(db)
    assert codes == {r["reference"]: r["reference"] == lost for r in rows}
    assert (await officer.get(f"/api/pilots/{pilot_id}/codes")).json()[0]["revoked"] == 1


async def test_reissue_replaces_a_lost_card_with_a_new_code_in_the_same_area(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    rows = await issue(officer, pilot_id, area_id, 2)
    lost = rows[0]["reference"]
    response = await officer.post(f"/api/pilots/{pilot_id}/codes/{lost}/reissue", json=KEY)
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["replaces"] == lost and new["area_code"] == "E05000001"
    code = normalise_short_code(new["short_code"])
    assert Tokens((SECRET,)).read(VOTER_CODE, new["link"].rsplit("/", 1)[1]) == code
    assert new["short_link"] == f"{BASE}/c/{code}"

    old = await find_by_reference(db, lost)
    replacement = await find_by_short_code(db, short_digest(await ballot_key(db), code))
    await done_reading(db)
    assert old is not None and old.revoked
    assert replacement is not None and replacement.reference == new["reference"]
    assert replacement.replaces == lost and replacement.area_id == area_id and not replacement.revoked

    before = await snapshot(db)
    twice = await officer.post(f"/api/pilots/{pilot_id}/codes/{lost}/reissue", json=KEY)
    assert twice.status_code == 409 and twice.json()["code"] == "code_already_replaced"
    assert await snapshot(db) == before
    batches = (await officer.get(f"/api/pilots/{pilot_id}/codes")).json()
    assert [(b["count"], b["replacement"]) for b in batches] == [(1, True), (2, False)]


async def test_a_card_cancelled_first_can_still_be_replaced_once(officer: httpx.AsyncClient) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    lost = (await issue(officer, pilot_id, area_id, 1))[0]["reference"]
    assert (await officer.post(f"/api/pilots/{pilot_id}/codes/{lost}/revoke")).status_code == 200
    assert (await officer.post(f"/api/pilots/{pilot_id}/codes/{lost}/reissue", json=KEY)).status_code == 201
    again = await officer.post(f"/api/pilots/{pilot_id}/codes/{lost}/reissue", json=KEY)
    assert again.json()["code"] == "code_already_replaced"


async def test_two_officers_reissuing_one_lost_card_make_one_replacement(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    lost = (await issue(officer, pilot_id, area_id, 1))[0]["reference"]
    url = f"/api/pilots/{pilot_id}/codes/{lost}/reissue"
    answers = await asyncio.gather(*(officer.post(url, json=KEY) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    replacements = (await db.scalars(select(VoterCode).where(VoterCode.replaces == lost))).all()
    await done_reading(db)
    assert len(replacements) == 1


async def test_codes_of_another_pilot_cannot_be_touched(officer: httpx.AsyncClient) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    other_id, _ = await pilot_with_area(officer, code="W1", name="Other Pilot")
    reference = (await issue(officer, pilot_id, area_id, 1))[0]["reference"]
    for action in ("revoke", "reissue"):
        response = await officer.post(f"/api/pilots/{other_id}/codes/{reference}/{action}")
        assert response.status_code == 404 and response.json()["code"] == "code_not_found"


async def test_analysts_see_batches_but_cannot_issue_or_cancel(
    officer: httpx.AsyncClient, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    reference = (await issue(officer, pilot_id, area_id, 2))[0]["reference"]
    invited = await officer.put(
        f"/api/pilots/{pilot_id}/staff", json={"email": "ana@council.example", "role": "analyst"}
    )
    token = invited.json()["invitation_link"].split("token=")[1]
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as analyst:
        csrf = (await analyst.get("/api/session")).json()["csrf_token"]
        password = "analyst password 1"
        await analyst.post(
            f"/staff/welcome?token={token}",
            data={"csrf_token": csrf, "password": password, "confirm": password},
        )
        await sign_in(analyst, "ana@council.example", password)
        assert len((await analyst.get(f"/api/pilots/{pilot_id}/codes")).json()) == 1
        before = await snapshot(db)
        refused = [
            await analyst.post(f"/api/pilots/{pilot_id}/codes", json={"area_id": area_id, "count": 1}),
            await analyst.post(f"/api/pilots/{pilot_id}/codes/{reference}/revoke"),
            await analyst.post(f"/api/pilots/{pilot_id}/codes/{reference}/reissue"),
        ]
        assert [r.status_code for r in refused] == [403, 403, 403]
        assert await snapshot(db) == before
        page = await analyst.get(f"/council/pilots/{pilot_id}/codes")
        assert page.status_code == 200 and "Issue poll cards" not in page.text


async def test_codes_api_needs_sign_in_and_csrf(
    officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    del officer.headers["X-CSRF-Token"]
    response = await officer.post(f"/api/pilots/{pilot_id}/codes", json={"area_id": area_id, "count": 1})
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as stranger:
        assert (await stranger.get(f"/api/pilots/{pilot_id}/codes")).status_code == 401


async def test_openapi_lists_the_codes_operations(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert set(paths["/api/pilots/{pilot_id}/codes"]) == {"get", "post"}
    assert "post" in paths["/api/pilots/{pilot_id}/codes/{reference}/reissue"]


# The officer page


async def test_officer_prints_poll_cards_from_the_page(officer: httpx.AsyncClient) -> None:
    pilot_id, area_id = await pilot_with_area(officer, contact_phone="0191 000 0000")
    browser = forms_only(officer)
    url = f"/council/pilots/{pilot_id}/codes"
    assert f'href="{url}"' in (await browser.get(f"/council/pilots/{pilot_id}")).text
    page = await browser.get(url)
    assert "No codes issued yet" in page.text
    form = {"csrf_token": csrf_from(page.text), "area_id": str(area_id), "count": "10", "format": "sheet"}
    sheet = await browser.post(url, data=form)
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    html = sheet.text
    assert html.count('<article class="card">') == 10 and html.count('class="page"') == 2
    assert html.count("<svg") == 10 and "Northshire County Council" in html and "0191 000 0000" in html
    assert '<link rel="stylesheet" href="/council/cards.css">' in html  # the CSP refuses inline styles
    css = await browser.get("/council/cards.css")
    assert css.status_code == 200 and "@page" in css.text and "@media print" in css.text

    download = await browser.post(url, data={**form, "count": "4", "format": "csv"})
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert len(csv_rows(download.text)) == 4
    listed = await browser.get(url)
    assert "Northgate (E05000001)" in listed.text
    assert [int(n) for n in re.findall(r'numeric">(\d+)</td>', listed.text)[:3]] == [14, 0, 14]


@pytest.mark.parametrize(
    ("count_typed", "message"),
    [
        ("", "Enter how many"),
        ("ten", "whole number"),
        ("²", "whole number"),  # a digit to str.isdigit, not to int()
        ("0", "between 1 and 10,000"),
        ("10001", "command line"),
    ],
)
async def test_page_shows_count_problems_next_to_the_field(
    officer: httpx.AsyncClient,
    db: AsyncSession,
    count_typed: str,
    message: str,
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    browser = forms_only(officer)
    url = f"/council/pilots/{pilot_id}/codes"
    before = await snapshot(db)
    page = await browser.get(url)
    form = {
        "csrf_token": csrf_from(page.text),
        "area_id": str(area_id),
        "count": count_typed,
        "format": "csv",
    }
    response = await browser.post(url, data=form)
    assert response.status_code == 422
    error = re.search(r'id="count-error"[^>]*>(.*?)</p>', response.text, re.S)
    assert error and message in error.group(1)
    assert await snapshot(db) == before


async def test_page_refuses_an_area_of_another_pilot_and_a_missing_csrf_token(
    officer: httpx.AsyncClient,
    db: AsyncSession,
) -> None:
    pilot_id, _ = await pilot_with_area(officer)
    _, foreign = await pilot_with_area(officer, code="W9", name="Other Pilot")
    browser = forms_only(officer)
    url = f"/council/pilots/{pilot_id}/codes"
    before = await snapshot(db)
    csrf = csrf_from((await browser.get(url)).text)
    response = await browser.post(
        url, data={"csrf_token": csrf, "area_id": str(foreign), "count": "5", "format": "csv"}
    )
    assert response.status_code == 422 and 'id="area_id-error"' in response.text
    no_csrf = await browser.post(url, data={"area_id": str(foreign), "count": "5", "format": "csv"})
    assert no_csrf.status_code == 403
    assert await snapshot(db) == before


async def test_page_reissues_a_lost_card_and_shows_the_new_code_once(
    officer: httpx.AsyncClient,
    db: AsyncSession,
) -> None:
    pilot_id, area_id = await pilot_with_area(officer)
    lost, kept = (await issue(officer, pilot_id, area_id, 2))[:2]
    browser = forms_only(officer)
    url = f"/council/pilots/{pilot_id}/codes"
    csrf = csrf_from((await browser.get(url)).text)
    change = f"{url}/change"
    done = await browser.post(
        change,
        data={
            "csrf_token": csrf,
            "reference": lost["reference"],
            "action": "reissue",
            "officer_key": OFFICER_PRIVATE_KEY,
        },
    )
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    short = re.search(r'id="short-code">([^<]+)<', done.text)
    assert short is not None
    code = await find_by_short_code(
        db, short_digest(await ballot_key(db), normalise_short_code(short.group(1)))
    )
    await done_reading(db)
    assert code is not None and code.replaces == lost["reference"]
    assert f"It replaces {lost['reference']}" in done.text
    assert short.group(1) not in (await browser.get(url)).text  # shown once only

    asked = await browser.post(
        change, data={"csrf_token": csrf, "reference": kept["reference"], "action": "revoke"}
    )  # cancelling cannot be undone: asked first, nothing changed yet
    assert f"Cancel the code of card {kept['reference']}?" in asked.text and "cannot be undone" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    cancelled = await browser.post(
        change,
        data={"csrf_token": csrf, "reference": kept["reference"], "action": "revoke", "confirm": "yes"},
    )
    assert cancelled.status_code == 200 and f"Code {kept['reference']} is cancelled" in cancelled.text
    before = await snapshot(db)
    for reference, status, text in [
        (kept["reference"], 409, "already been cancelled"),
        ("NOSUCHCARD", 404, "no code with this reference"),
        ("", 422, "Enter the reference"),
    ]:
        response = await browser.post(
            change, data={"csrf_token": csrf, "reference": reference, "action": "revoke", "confirm": "yes"}
        )
        assert response.status_code == status
        error = re.search(r'id="reference-error"[^>]*>(.*?)</p>', response.text, re.S)
        assert error and text in error.group(1)
    assert await snapshot(db) == before


# QR codes


@examples(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**65 - 1),
    st.sampled_from(["http://127.0.0.1:8000/c/", "https://polls.example.gov.uk/c/"]),
)
def test_fast_qr_matrices_are_exactly_segnos(bits: int, prefix: str) -> None:
    code = short_code_from_bits(bits)
    fast = short_link_qr(prefix)  # built once per prefix
    expected = segno.make_qr(prefix + code, error="m", mask=2).matrix
    assert fast.bits(code) == "".join("".join(str(v) for v in row) for row in expected)
    assert fast.svg(code, title="t") == qr_svg(prefix + code, title="t")


def raster(svg: str, scale: int = 4) -> tuple[bytearray, int]:
    """Paint the SVG's rectangles (our own path syntax: M/m, h, v, z) as a greyscale bitmap."""
    side = int(re.search(r"viewBox='0 0 (\d+) \d+'", svg).group(1))  # type: ignore[union-attr]
    (path,) = re.findall(r"<path d='([^']*)'/>", svg)
    pixels = bytearray([255]) * (side * scale) ** 2
    x = y = 0
    for op, dx, dy, width in re.findall(r"([Mm])(-?\d+) (-?\d+)h(\d+)v1h-\d+z", path):
        x, y = (int(dx), int(dy)) if op == "M" else (x + int(dx), y + int(dy))
        for row in range(y * scale, (y + 1) * scale):
            start = row * side * scale + x * scale
            pixels[start : start + int(width) * scale] = bytes(int(width) * scale)
    return pixels, side * scale


def test_qr_svg_is_one_titled_path_on_a_quiet_zone_and_scans() -> None:
    link = "https://polls.example.gov.uk/c/" + short_code_from_bits(12345678901234567)
    svg = qr_svg(link, title="QR code for your voting link")
    version = segno.make_qr(link, error="m", mask=2).version
    side = 17 + 4 * int(version) + 8
    assert f"viewBox='0 0 {side} {side}'" in svg
    assert svg.count("<path") == 1 and "<title>QR code for your voting link</title>" in svg
    pixels, width = raster(svg)
    assert pixels[: width * 16] == bytearray([255]) * (width * 16)  # four light modules on top
    zxingcpp = pytest.importorskip("zxingcpp")
    found = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (width, width)))
    assert [b.text for b in found] == [link]


# The command line

POLLS = str(Path(sys.executable).parent / "polls")


def run_polls(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [POLLS, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/polls.sqlite3",
        "POLLS_DATA_DIR": str(tmp_path),
        "SECRET_KEYS": SECRET,
        "BALLOT_KEY": "b" * 32,
        "BASE_URL": "https://polls.example.gov.uk",
    }
    assert run_polls("db", "upgrade", env=env).returncode == 0

    async def seed() -> None:
        engine = open_engine(f"sqlite+aiosqlite:///{tmp_path}/polls.sqlite3")
        async with sessions_for(engine).begin() as session:
            staff = await create_staff(
                session,
                email="chief@coastal.example",
                name="Chief",
                password="x" * 12,
                site_admin=True,
                actor="test",
            )
            actor = Actor(staff_id=staff.id, email=staff.email, name=staff.name, is_site_admin=True)
            spec = PilotSpec(
                name="Coastal Pilot",
                region="South West",
                council="Coastal District Council",
                languages=["en"],
                starts_on=date(2027, 1, 1),
                ends_on=date(2027, 6, 1),
                contact_email="democracy@coastal.example",
            )
            pilot = await pilot_store.create_pilot(session, actor, spec)
            await pilot_store.add_area(session, actor, pilot.id, AreaSpec(name="Harbour", code="E05000001"))
            await set_officer_key(session, actor, pilot.id, OFFICER_PUBLIC_KEY)
        await engine.dispose()

    in_thread(lambda: asyncio.run(seed()))
    return env


def test_cli_issues_a_csv_and_a_sheet_then_cancels_and_reissues(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    out, sheet = tmp_path / "cards.csv", tmp_path / "cards.html"
    result = run_polls(
        "codes", "issue", "--pilot", "1", "--area", "E05000001", "--count", "2500", "--csv", str(out),
        "--sheet", str(sheet), env=cli_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "making cards: 2,500/2,500" in result.stderr and "issued 2,500 codes" in result.stderr
    rows = csv_rows(out.read_text(encoding="utf-8"))
    assert len(rows) == 2500 and len({r["reference"] for r in rows}) == 2500
    assert all(r["link"].startswith("https://polls.example.gov.uk/v/vc_") for r in rows)
    tokens = Tokens((SECRET,))
    assert [tokens.read(VOTER_CODE, r["link"].rsplit("/", 1)[1]) for r in rows[:50]] == [
        normalise_short_code(r["short_code"]) for r in rows[:50]
    ]
    html = sheet.read_text(encoding="utf-8")
    assert html.count('<article class="card">') == 2500 and "<style>" in html and "@page" in html
    assert rows[-1]["short_code"] in html and "Coastal District Council" in html
    assert not list(tmp_path.glob("*.partial"))

    db_path = cli_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM voter_codes").fetchone() == (2500,)
        stored = " ".join(str(v) for row in conn.execute("SELECT * FROM voter_codes LIMIT 50") for v in row)
        issuer = conn.execute("SELECT actor FROM audit_log WHERE action = 'codes.issue'").fetchone()
        assert issuer == ("cli:codes-issue",)
    assert not any(normalise_short_code(r["short_code"]) in stored for r in rows)  # only digests are kept

    lost = rows[10]["reference"]
    revoked = run_polls("codes", "revoke", "--pilot", "1", lost, env=cli_env)
    assert revoked.returncode == 0 and "cancelled" in revoked.stdout
    again = run_polls("codes", "revoke", "--pilot", "1", lost, env=cli_env)
    assert again.returncode == 2 and "already been cancelled" in again.stderr
    key_file = tmp_path / "officer-key.txt"
    key_file.write_text(OFFICER_PRIVATE_KEY + "\n")
    replaced = run_polls(
        "codes", "reissue", "--pilot", "1", lost.lower(), "--sheet", str(tmp_path / "one.html"),
        "--officer-key-file", str(key_file), env=cli_env,
    )  # fmt: skip
    assert replaced.returncode == 0, replaced.stderr
    new_short = re.search(r"short code\s+(\S+)", replaced.stdout).group(1)  # type: ignore[union-attr]
    assert new_short in (tmp_path / "one.html").read_text()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM voter_codes WHERE replaces = ?", (lost,)).fetchone() == (1,)
    assert "audit log intact: 7 entries" in run_polls("audit", "verify", env=cli_env).stdout
    shown = run_polls("audit", "show", "--pilot", "1", env=cli_env).stdout
    assert "issued 2500 poll-card codes for area E05000001" in shown
    assert "issued a replacement card for code " in shown


def test_cli_will_not_print_cards_whose_links_the_server_would_refuse(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in {**os.environ, **cli_env}.items() if k != "SECRET_KEYS"}
    args = ["codes", "issue", "--pilot", "1", "--area", "E05000001", "--count", "1"]
    result = subprocess.run([POLLS, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "SECRET_KEYS must be set" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--area", "E05000001", "--count", "0"], "1 or more"),
        (["--area", "E05000001", "--count", "200001"], "at most 200,000"),
        (["--area", "E05000001", "--count", "many"], "invalid int value"),
        (["--area", "NOPE", "--count", "5"], "no area with the code NOPE"),
        (["--area", "E05000001", "--count", "5", "--csv", "/no/such/dir/x.csv"], "cannot write"),
    ],
)
def test_cli_refuses_bad_input_and_writes_nothing(
    cli_env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_polls("codes", "issue", "--pilot", "1", *args, env=cli_env)
    assert result.returncode == 2 and message in result.stderr
    with sqlite3.connect(cli_env["DATABASE_URL"].removeprefix("sqlite:///")) as conn:
        assert conn.execute("SELECT count(*) FROM voter_codes").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM code_batches").fetchone() == (0,)
    assert not list(tmp_path.glob("*.partial"))
