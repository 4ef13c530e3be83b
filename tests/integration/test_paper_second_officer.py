"""Paper ballots held for a second officer: rejecting, confirming, closing, and what is stored."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.store.models import AuditEntry, Ballot, PaperBatch
from tests.conftest import count
from tests.factories import csrf_from, pilot_body
from tests.integration.test_attack_insider_officer import (
    _upload,
    second_officer,  # noqa: F401 (a fixture)
)
from tests.voting_setup import Setup, settled_tallies, token, vote


def _runtime(client: httpx.AsyncClient) -> Any:
    return client._transport.app.state.runtime  # type: ignore[attr-defined]


@pytest.fixture
async def held(officer: httpx.AsyncClient, voting: Setup) -> int:
    """Two officers required; the first officer has entered a batch of three: its id."""
    turned_on = await officer.put(
        f"/api/pilots/{voting.pilot['id']}", json=pilot_body(paper_second_officer=True)
    )
    assert turned_on.json()["paper_second_officer"] is True
    response = await _upload(officer, voting, [c.short_code for c in voting.codes["north"][:3]])
    assert response.status_code == 202 and 'id="paper-held-count">3<' in response.text
    page = await officer.get(f"/council/polls/{voting.poll['id']}/paper/held")
    return int(page.text.split('data-batch="', 1)[1].split('"', 1)[0])


async def _post(http: httpx.AsyncClient, voting: Setup, path: str, **fields: str) -> httpx.Response:
    page = await http.get(f"/council/polls/{voting.poll['id']}/paper/held")
    return await http.post(
        f"/council/polls/{voting.poll['id']}/paper/held/{path}",
        data={"csrf_token": csrf_from(page.text), **fields},
    )


async def _audit_count(db: AsyncSession) -> int:
    return await count(db, AuditEntry)


async def test_a_held_batch_stores_no_code_and_its_codes_cannot_vote_online_meanwhile(
    officer: httpx.AsyncClient, voting: Setup, held: int, db: AsyncSession
) -> None:
    row = (await db.execute(select(PaperBatch.ballots, PaperBatch.spent))).one()
    stored = json.dumps(list(row))
    for issued in voting.codes["north"]:
        assert issued.short_code not in stored and issued.reference not in stored
    assert len(row.ballots) == 3 and len(row.spent) == 3
    ballot = voting.full_ballot()
    online = await vote(officer, voting.poll["id"], token(voting.codes["north"][0]), ballot)
    assert online.json()["code"] == "code_already_used"


async def test_rejecting_needs_a_reason_and_then_gives_the_codes_back(
    officer: httpx.AsyncClient,
    second_officer: httpx.AsyncClient,  # noqa: F811
    voting: Setup,
    held: int,
    db: AsyncSession,
) -> None:
    before = await _audit_count(db)
    blank = await _post(second_officer, voting, f"{held}/reject", **{f"reason-{held}": "  "})
    assert blank.status_code == 422 and "Say why the batch is rejected" in blank.text
    assert await _audit_count(db) == before and await count(db, PaperBatch) == 1

    reason = "Line 2 says North on the paper"
    rejected = await _post(second_officer, voting, f"{held}/reject", **{f"reason-{held}": reason})
    assert rejected.status_code == 200 and 'id="paper-held-none"' in rejected.text
    assert await count(db, Ballot) == 0
    entry = (await db.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))).scalar_one()
    assert entry.action == "paper.reject" and entry.after["reason"] == reason
    await db.rollback()
    assert await count(db, PaperBatch) == 0  # nothing of the ballots stays once decided
    ballot = voting.full_ballot()
    online = await vote(officer, voting.poll["id"], token(voting.codes["north"][0]), ballot)
    assert online.status_code == 201, online.text


async def test_a_confirmed_batch_is_counted_live_and_then_the_poll_closes(
    officer: httpx.AsyncClient,
    second_officer: httpx.AsyncClient,  # noqa: F811
    voting: Setup,
    held: int,
    db: AsyncSession,
) -> None:
    assert (await _post(second_officer, voting, f"{held}/confirm")).status_code == 200
    again = await _post(second_officer, voting, f"{held}/confirm")
    assert again.status_code == 404 and "confirmed or rejected already" in again.text
    assert await count(db, PaperBatch) == 0
    check = await settled_tallies(_runtime(officer), voting.poll["id"])
    assert check.agrees and check.ballots == 3
    closing = await officer.post(f"/api/polls/{voting.poll['id']}/actions/close")
    assert closing.status_code == 200, closing.text
    assert await count(db, Ballot) == 3


async def test_confirming_a_batch_the_poll_does_not_have_is_refused(
    officer: httpx.AsyncClient, voting: Setup, held: int, db: AsyncSession
) -> None:
    missing = await _post(officer, voting, f"{held + 99}/confirm")
    assert missing.status_code == 404 and "no batch of paper ballots waiting" in missing.text
    assert await count(db, Ballot) == 0
