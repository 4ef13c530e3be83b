"""Adversary 5, the insider officer: a council admin holds every printed code and can type
"paper" ballots for cards that never voted. Every paper entry must leave an audit entry (who,
when, how many; never the answers, codes or trackers), and a council can require a second
officer to confirm each batch before anything is counted."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.codes import normalise_short_code
from polls.domain.pilots import Role
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import AuditEntry, Ballot, StaffRole
from polls.store.staff import create_staff
from tests.conftest import count, sign_in
from tests.factories import OFFICER_PRIVATE_KEY, csrf_from, make_poll, pilot_body
from tests.voting_setup import Setup

SECOND_EMAIL = "second@council.example"
SECOND_PASSWORD = "second officer passphrase"
COMMENT = "Secret words on the paper"


def _csv(voting: Setup, codes: list[str]) -> bytes:
    single, comment = voting.q["single"], voting.q["comment"]
    lines = [f"code,q{single['id']},q{comment['id']}"]
    lines += [f"{code},South,{COMMENT} {n}" for n, code in enumerate(codes)]
    return ("\n".join(lines) + "\n").encode()


async def _upload(http: httpx.AsyncClient, voting: Setup, codes: list[str]) -> httpx.Response:
    url = f"/council/polls/{voting.poll['id']}/paper"
    page = await http.get(url)
    return await http.post(
        url + "/upload",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": ("count.csv", _csv(voting, codes), "text/csv")},
    )


async def _paper_entries(db: AsyncSession, pilot_id: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.pilot_id == pilot_id, AuditEntry.action.like("paper.%"))
    entries = list((await db.scalars(query.order_by(AuditEntry.seq))).all())
    db.expunge_all()  # read as they are now; the rollback starts the next read afresh
    await db.rollback()
    return entries


def _assert_keeps_no_secret(entry: AuditEntry, voting: Setup) -> None:
    text = json.dumps([entry.target, entry.before, entry.after])
    for issued in [c for codes in voting.codes.values() for c in codes]:
        assert issued.short_code not in text and issued.reference not in text
    assert COMMENT not in text and "South" not in text and "answers" not in text
    assert "tracker" not in text


@pytest.fixture
async def second_officer(
    officer: httpx.AsyncClient, voting: Setup, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """Another council admin of the same pilot, signed in on a client of their own."""
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        staff = await create_staff(
            session, email=SECOND_EMAIL, name="Sam Second", password=SECOND_PASSWORD, actor="test"
        )
        session.add(StaffRole(pilot_id=voting.pilot["id"], staff_id=staff.id, role=Role.COUNCIL_ADMIN))
    await engine.dispose()
    transport: Any = officer._transport  # the same app, a separate signed-in session
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await sign_in(http, SECOND_EMAIL, SECOND_PASSWORD)
        yield http


async def test_paper_ballots_for_unused_codes_are_audited_without_answers_or_codes(
    officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    unused = [c.short_code for c in voting.codes["north"][:3]]
    response = await _upload(officer, voting, unused)
    assert response.status_code == 200, response.text
    assert await count(db, Ballot) == 3  # the insider's ballots count...

    entries = await _paper_entries(db, voting.pilot["id"])
    assert [e.action for e in entries] == ["paper.enter"]  # ...but not without trace
    entry = entries[0]
    assert entry.actor == "admin@council.example"
    assert entry.target == f"poll:{voting.poll['id']}"
    assert entry.after["ballots"] == 3 and entry.at is not None
    _assert_keeps_no_secret(entry, voting)


async def test_one_typed_paper_ballot_is_audited_too(
    officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    url = f"/council/polls/{voting.poll['id']}/paper"
    page = await officer.get(url)
    data = {
        "csrf_token": csrf_from(page.text),
        "code": voting.codes["north"][0].short_code,
        f"q{voting.q['comment']['id']}": COMMENT,
    }
    assert (await officer.post(url, data=data)).status_code == 201
    (entry,) = await _paper_entries(db, voting.pilot["id"])
    assert entry.action == "paper.enter" and entry.after["ballots"] == 1
    _assert_keeps_no_secret(entry, voting)


async def test_with_two_officers_nothing_counts_until_a_different_officer_confirms(
    officer: httpx.AsyncClient, second_officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    pilot_id, poll_id = voting.pilot["id"], voting.poll["id"]
    turned_on = await officer.put(f"/api/pilots/{pilot_id}", json=pilot_body(paper_second_officer=True))
    assert turned_on.status_code == 200, turned_on.text

    response = await _upload(officer, voting, [c.short_code for c in voting.codes["north"][:3]])
    assert response.status_code == 202, response.text
    assert await count(db, Ballot) == 0  # held: not counted

    held = await officer.get(f"/council/polls/{poll_id}/paper/held")
    batch_id = int(held.text.split('data-batch="', 1)[1].split('"', 1)[0])
    confirm = f"/council/polls/{poll_id}/paper/held/{batch_id}/confirm"
    own = await officer.post(confirm, data={"csrf_token": csrf_from(held.text)})
    assert own.status_code == 409
    assert "different officer" in own.text
    assert await count(db, Ballot) == 0

    closing = await officer.post(f"/api/polls/{poll_id}/actions/close")
    assert closing.status_code == 409 and closing.json()["code"] == "paper_batches_held"

    page = await second_officer.get(f"/council/polls/{poll_id}/paper/held")
    assert "admin@council.example" in page.text and COMMENT in page.text  # checked against the paper
    confirmed = await second_officer.post(confirm, data={"csrf_token": csrf_from(page.text)})
    assert confirmed.status_code == 200, confirmed.text
    assert await count(db, Ballot) == 3

    entries = await _paper_entries(db, pilot_id)
    assert [(e.action, e.actor) for e in entries] == [
        ("paper.enter", "admin@council.example"),
        ("paper.confirm", SECOND_EMAIL),
    ]
    assert entries[1].after["ballots"] == 3 and entries[1].after["entered_by"] == "admin@council.example"
    for entry in entries:
        _assert_keeps_no_secret(entry, voting)


async def test_event_codes_and_replacement_cards_are_audited_without_the_new_code(
    officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    poll = await make_poll(officer, voting.pilot["id"], assurance="event", area_ids=[voting.areas[0]["id"]])
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    url = f"/council/polls/{poll['id']}/event"
    page = await officer.get(url)
    issued = await officer.post(
        url, data={"csrf_token": csrf_from(page.text), "area_id": str(voting.areas[0]["id"])}
    )
    event_code = re.search(r'id="event-code">([0-9A-Z-]+)<', issued.text)
    assert issued.status_code == 201 and event_code
    lost = voting.codes["north"][4].reference
    replaced = await officer.post(
        f"/api/pilots/{voting.pilot['id']}/codes/{lost}/reissue", json={"officer_key": OFFICER_PRIVATE_KEY}
    )
    assert replaced.status_code in (200, 201), replaced.text
    new_code = normalise_short_code(replaced.json()["short_code"])

    query = select(AuditEntry).where(AuditEntry.action.in_(["code.event_issue", "code.reissue"]))
    entries = {e.action: e for e in (await db.scalars(query)).all()}
    assert set(entries) == {"code.event_issue", "code.reissue"}
    assert entries["code.event_issue"].actor == entries["code.reissue"].actor == "admin@council.example"
    assert entries["code.event_issue"].target == f"poll:{poll['id']}"
    for entry in entries.values():
        text = json.dumps([entry.target, entry.before, entry.after])
        assert event_code.group(1).replace("-", "") not in text.replace("-", "")
        assert new_code not in text.replace("-", "")
