"""Valid request bodies, so each test states only what it is about."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

SECRET = "test-secret-key-0123456789abcdef"  # the signing key the tests give the app
BALLOT_KEY = "test-ballot-key-0123456789abcdef0123456789"  # the settings half of the ballot key
# The test pilots' returning officer's key pair (X25519): cards are sealed to the public half.
OFFICER_PRIVATE_KEY = "rosk_60d002fe803a35a445a2a82a1e9475d1901f9b9e61ce81e3f25e3263340e355b"
OFFICER_PUBLIC_KEY = "ropk_d38b0512da67157ce819ba757242b62083cb47f1506c17b33a63d42500bf2e50"


def pilot_body(**changes: Any) -> dict[str, Any]:
    body = {
        "name": "Northshire Democracy Pilot",
        "region": "North East",
        "council": "Northshire County Council",
        "languages": ["en"],
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
        "contact_email": "democracy@northshire.example",
    }
    body.update(changes)
    return body


def single_question(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "single",
        "title": "Should the library open on Sundays?",
        "options": [{"label": "Yes"}, {"label": "No"}],
    }
    body.update(changes)
    return body


def later(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def make_pilot(http: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    """A pilot, with the test returning officer's public key set (poll cards need it)."""
    response = await http.post("/api/pilots", json=pilot_body(**changes))
    assert response.status_code == 201, response.text
    pilot: dict[str, Any] = response.json()
    key = await http.put(
        f"/api/pilots/{pilot['id']}/officer-key", json={"officer_public_key": OFFICER_PUBLIC_KEY}
    )
    assert key.status_code == 200, key.text
    return pilot


async def make_poll(http: httpx.AsyncClient, pilot_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "Library opening hours", "questions": [single_question()]}
    body.update(changes)
    response = await http.post(f"/api/pilots/{pilot_id}/polls", json=body)
    assert response.status_code == 201, response.text
    poll: dict[str, Any] = response.json()
    return poll


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)
