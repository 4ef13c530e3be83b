"""Official results are counted from the database at close, stored once, reproduced exactly by
`polls recount` on the published ballot file, reviewed, published and followed up (audited)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls import scheduler
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import AuditEntry, Ballot, FollowUp, OfficialResult, QuestionResult, StaffRole, utcnow
from polls.store.staff import create_staff
from tests.conftest import sign_in
from tests.factories import later, make_pilot, make_poll, single_question
from tests.voting_setup import Setup, token, vote

POLLS = str(Path(sys.executable).parent / "polls")


def ballots_for(setup: Setup) -> list[dict[str, Any]]:
    """Ten different ballots, so every method has something to decide (and some ties)."""
    q, o = setup.q, setup.option
    out = []
    for i in range(10):
        ranked = [o("ranked", i % 3), o("ranked", (i + 1) % 3)] + (
            [o("ranked", (i + 2) % 3)] if i % 2 else []
        )
        out.append(
            {
                str(q["single"]["id"]): o("single", i % 2),
                str(q["multiple"]["id"]): [o("multiple", i % 3)],
                str(q["ranked"]["id"]): ranked,
                str(q["scale"]["id"]): 1 + i % 5,
                str(q["budget"]["id"]): [o("budget", i % 3)] if i % 4 else [o("budget", 1), o("budget", 2)],
                str(q["comment"]["id"]): f"comment {i}",
            }
        )
    return out


async def vote_and_close(client: httpx.AsyncClient, officer: httpx.AsyncClient, setup: Setup) -> int:
    poll_id = int(setup.poll["id"])
    codes = setup.codes["north"] + setup.codes_for_restart
    for issued, answers in zip(codes, ballots_for(setup), strict=True):
        assert (await vote(client, poll_id, token(issued.reference), answers)).status_code == 201
    assert (await officer.post(f"/api/polls/{poll_id}/actions/close")).status_code == 200
    return poll_id


async def publish_comments(officer: httpx.AsyncClient, poll_id: int) -> None:
    """An officer reads every comment and publishes each as written (results wait for that)."""
    for comment in (await officer.get(f"/api/polls/{poll_id}/official/comments")).json():
        decided = await officer.put(
            f"/api/polls/{poll_id}/official/comments/{comment['number']}", json={"decision": "published"}
        )
        assert decided.status_code == 200


async def audit_actions(db: AsyncSession, action: str) -> list[dict[str, Any]]:
    query = select(AuditEntry.actor, AuditEntry.before, AuditEntry.after).where(AuditEntry.action == action)
    found = [{"actor": a, "before": b, "after": c} for a, b, c in (await db.execute(query)).all()]
    await db.rollback()
    return found


async def test_result_stored_at_close_equals_recount_of_the_published_file(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup, db: AsyncSession, tmp_path: Path
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    official = (await officer.get(f"/api/polls/{poll_id}/official")).json()
    assert official["ballots"] == 10
    assert official["turnout"]["channels"] == {"online": 10, "event": 0, "paper": 0}
    assert {a["area"]: a["ballots"] for a in official["turnout"]["areas"]} == {"North": 5, "South": 5}
    methods = {q["kind"]: q["method"] for q in official["questions"]}
    assert methods == {
        "single": "plurality",
        "multiple": "approval",
        "ranked": "instant_runoff",
        "scale": "scale",
        "budget": "greedy",
        "comment": None,
    }
    comment = next(q for q in official["questions"] if q["kind"] == "comment")
    assert comment["result"] == {"method": None, "answered": 10}

    published = await client.get(f"/polls/{poll_id}/ballots.jsonl")
    assert published.status_code == 200
    assert hashlib.sha256(published.content).hexdigest() == official["ballot_file"]["sha256"]
    assert (await client.get(f"/polls/{poll_id}/ballots.jsonl")).content == published.content  # stable

    path = tmp_path / "ballots.jsonl"
    path.write_bytes(published.content)
    recount = await asyncio.to_thread(
        subprocess.run, [POLLS, "recount", str(path)], capture_output=True, text=True, timeout=60
    )
    assert recount.returncode == 0, recount.stderr
    recounted = {r["question"]: r["result"] for r in json.loads(recount.stdout.splitlines()[-1])["results"]}
    stored = {q["id"]: q["result"] for q in official["questions"] if q["method"] is not None}
    assert recounted == stored
    assert len(await audit_actions(db, "results.count")) == 1


async def test_scheduler_close_counts_once_even_with_two_instances(
    officer: httpx.AsyncClient, settings: Settings, db: AsyncSession
) -> None:
    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"], closes_at=later(1))
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    engines = [open_engine(settings.database_url, ballot_key=settings.ballot_key) for _ in range(2)]
    try:
        when = utcnow() + timedelta(hours=1, minutes=1)
        done = await asyncio.gather(*(scheduler.run_due(sessions_for(e), when) for e in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(map(len, done)) == [0, 1]
    assert (await db.execute(select(func.count()).select_from(OfficialResult))).scalar_one() == 1
    await db.rollback()
    counted = await audit_actions(db, "results.count")
    assert [(e["actor"], e["after"]["ballots"]) for e in counted] == [("system:scheduler", 0)]
    # review and publication find the count already there and keep it
    for action in ("review", "publish"):
        assert (await officer.post(f"/api/polls/{poll['id']}/actions/{action}")).status_code == 200
    assert len(await audit_actions(db, "results.count")) == 1
    official = (await officer.get(f"/api/polls/{poll['id']}/official")).json()
    assert official["published_at"] is not None


async def test_choosing_another_method_recounts_and_changes_only_the_files_header(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    before = await client.get(f"/polls/{poll_id}/ballots.jsonl")
    ranked = voting.q["ranked"]["id"]
    url = f"/api/polls/{poll_id}/official/questions/{ranked}/method"

    refused = await officer.put(url, json={"method": "equal_shares"})
    assert (refused.status_code, refused.json()["code"]) == (422, "method_not_available")
    assert (await officer.put(url, json={"method": ""})).status_code == 422
    assert (await client.get(f"/polls/{poll_id}/ballots.jsonl")).content == before.content
    assert await audit_actions(db, "results.method") == []

    changed = await officer.put(url, json={"method": "schulze"})
    assert changed.status_code == 200, changed.text
    question = next(q for q in changed.json()["questions"] if q["id"] == ranked)
    assert question["method"] == "schulze"
    assert question["result"]["method"] == "schulze"
    assert question["methods_available"][0] == "instant_runoff"
    after = await client.get(f"/polls/{poll_id}/ballots.jsonl")
    old_lines, new_lines = before.text.splitlines(), after.text.splitlines()
    assert new_lines[1:] == old_lines[1:]  # the same ballots, in the same order
    header = json.loads(new_lines[0])
    assert next(q["method"] for q in header["questions"] if q["id"] == ranked) == "schulze"
    assert changed.json()["ballot_file"]["sha256"] == hashlib.sha256(after.content).hexdigest()
    [entry] = await audit_actions(db, "results.method")
    assert (entry["before"]["method"], entry["after"]["method"]) == ("instant_runoff", "schulze")


async def test_responses_are_checked_saved_and_audited(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    single = voting.q["single"]["id"]
    url = f"/api/polls/{poll_id}/official/questions/{single}/response"
    too_long = await officer.put(url, json={"response": "x" * 5001})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "response"
    assert (await officer.put(url, json={"answer": "hi"})).status_code == 422
    missing = await officer.put(
        f"/api/polls/{poll_id}/official/questions/999999/response", json={"response": "x"}
    )
    assert missing.status_code == 404
    stored = (
        await db.execute(select(QuestionResult.response).where(QuestionResult.question_id == single))
    ).scalar_one()
    await db.rollback()
    assert stored == ""

    saved = await officer.put(url, json={"response": "  We will open the North park gates later.  "})
    assert saved.status_code == 200
    assert next(q for q in saved.json()["questions"] if q["id"] == single)["response"] == (
        "We will open the North park gates later."
    )
    [entry] = await audit_actions(db, "results.response")
    assert entry["after"] == {"response": "We will open the North park gates later."}


async def test_publish_then_follow_ups_and_nothing_changes_after(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    follow_up = {"title": "Gates open later", "body": "New hours from May.", "milestone_on": "2027-05-01"}
    early = await officer.post(f"/api/polls/{poll_id}/follow-ups", json=follow_up)
    assert (early.status_code, early.json()["code"]) == (409, "results_not_published")
    await publish_comments(officer, poll_id)
    for action in ("review", "publish"):
        assert (await officer.post(f"/api/polls/{poll_id}/actions/{action}")).status_code == 200

    single = voting.q["single"]["id"]
    late = await officer.put(
        f"/api/polls/{poll_id}/official/questions/{single}/response", json={"response": "x"}
    )
    assert (late.status_code, late.json()["code"]) == (409, "results_published")

    bad = await officer.post(
        f"/api/polls/{poll_id}/follow-ups",
        json={**follow_up, "milestone_on": "next May", "status": "someday"},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"milestone_on", "status"}
    assert (await db.execute(select(func.count()).select_from(FollowUp))).scalar_one() == 0
    await db.rollback()

    added = await officer.post(f"/api/polls/{poll_id}/follow-ups", json={**follow_up, "status": "planned"})
    assert added.status_code == 201, added.text
    assert added.json()["subject"] == f"poll:{poll_id}"
    listed = (await officer.get(f"/api/polls/{poll_id}/follow-ups")).json()
    assert [(f["title"], f["status"], f["milestone_on"]) for f in listed] == [
        ("Gates open later", "planned", "2027-05-01")
    ]
    [entry] = await audit_actions(db, "follow_up.create")
    assert entry["after"]["title"] == "Gates open later"
    assert len(await audit_actions(db, "poll.publish")) == 1


async def test_analysts_read_results_but_only_council_admins_change_them(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, settings: Settings
) -> None:
    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"], questions=[single_question(kind="ranked")])
    for action in ("open", "close"):
        assert (await officer.post(f"/api/polls/{poll['id']}/actions/{action}")).status_code == 200
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        staff = await create_staff(
            session, email="ann@council.example", name="Ann", password="a long analyst password", actor="test"
        )
        session.add(StaffRole(pilot_id=pilot["id"], staff_id=staff.id, role="analyst"))
    await engine.dispose()
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as analyst:
        await sign_in(analyst, "ann@council.example", "a long analyst password")
        question = poll["questions"][0]["id"]
        assert (await analyst.get(f"/api/polls/{poll['id']}/official")).status_code == 200
        assert (await analyst.get(f"/council/polls/{poll['id']}/results")).status_code == 200
        change = await analyst.put(
            f"/api/polls/{poll['id']}/official/questions/{question}/method", json={"method": "borda"}
        )
        assert change.status_code == 403


async def test_a_count_that_fails_never_keeps_a_poll_open_and_review_says_why(
    officer: httpx.AsyncClient, settings: Settings, db: AsyncSession
) -> None:
    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"], questions=[single_question(kind="ranked")])
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:  # a damaged row: an option nobody listed
        question = str(poll["questions"][0]["id"])
        session.add(
            Ballot(
                poll_id=poll["id"],
                tracker="0" * 64,
                area_id=None,
                channel="paper",
                answers={question: [999999]},
            )
        )
    await engine.dispose()
    closed = await officer.post(f"/api/polls/{poll['id']}/actions/close")
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert (await db.execute(select(func.count()).select_from(OfficialResult))).scalar_one() == 0
    await db.rollback()
    review = await officer.post(f"/api/polls/{poll['id']}/actions/review")
    assert (review.status_code, review.json()["code"]) == (409, "count_failed")
    assert (await officer.get(f"/api/polls/{poll['id']}")).json()["status"] == "closed"
