"""A jury's report and the council's answer: the jury moves into session and to reported, officers
answer every recommendation voted on (checked, nothing half-written), publication is refused until
the report is complete, the public report and its downloads never show who voted how, and
follow-ups are audited and shown on the pilot page."""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from polls.domain.access import Actor
from polls.domain.jury_commands import decide
from polls.domain.jury_report import Response, SessionLog, check_publishable, jury_report
from polls.domain.jury_room import MODERATOR, RoomActor, RoomState, created, replay
from polls.domain.pilots import Role
from polls.errors import Conflict
from polls.settings import Settings
from polls.store.db import Database, open_engine, sessions_for
from polls.store.jury_sessions import append, create_session, load_state
from polls.store.models import AuditEntry, Juror, Jury, JuryResponse, Pilot, PoolMember, StaffRole
from polls.store.staff import create_staff
from tests.conftest import sign_in
from tests.factories import csrf_from

PASSWORD = "a long enough password 1"
NAMES = ["Zelda Quill", "Yusuf Brand", "Xena Moss", "Wim Arbor"]
QUOTAS = [
    {"category": "gender", "feature": "female", "min": 1, "max": 3},
    {"category": "gender", "feature": "male", "min": 1, "max": 3},
]


@dataclass
class Setup:
    db: Database
    pilot_id: int
    jury_id: int
    jurors: list[int]
    moderator: Actor

    async def session(self, title: str) -> int:
        async with self.db.begin() as s:
            return (await create_session(s, self.moderator, self.jury_id, title)).id

    async def run(self, session_id: int, command: dict[str, Any], juror: int | None = None) -> None:
        actor = MODERATOR if juror is None else RoomActor.juror(juror)
        await append(
            self.db,
            session_id,
            replay([]),
            lambda state: decide(state, actor, command, now=time.time()),
            audit_actor=None if juror else self.moderator.email,
        )

    async def recommendation(self, session_id: int, text: str, votes: list[str] | None) -> int:
        """Draft a recommendation; with ``votes`` (one per juror, in order) vote on it and close."""
        await self.run(session_id, {"type": "draft_recommendation", "text": text})
        async with self.db() as s:
            rec_id = (await load_state(s, session_id)).recommendations[-1].id
        if votes is not None:
            await self.run(session_id, {"type": "open_vote", "recommendation": rec_id})
            for juror, choice in zip(self.jurors, votes, strict=False):
                await self.run(
                    session_id, {"type": "vote", "recommendation": rec_id, "choice": choice}, juror
                )
            await self.run(session_id, {"type": "close_vote", "recommendation": rec_id})
        return rec_id

    async def status(self) -> str:
        async with self.db() as s:
            jury = await s.get(Jury, self.jury_id)
            assert jury is not None
            return jury.status

    async def count(self, model: type, **where: Any) -> int:
        async with self.db() as s:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int((await s.execute(query)).scalar_one())


@pytest.fixture
async def setup(settings: Settings, officer: httpx.AsyncClient) -> AsyncIterator[Setup]:
    """A pilot with a moderator and an analyst, and an inviting jury of four who accepted."""
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    db = sessions_for(engine)
    async with db.begin() as s:
        pilot = Pilot(
            name="Northshire",
            region="North",
            council="Northshire Council",
            languages=["en"],
            starts_on=date(2027, 1, 1),
            ends_on=date(2027, 12, 31),
            contact_email="d@northshire.example",
        )
        s.add(pilot)
        await s.flush()
        staff = {}
        for role in (Role.MODERATOR, Role.ANALYST):
            member = await create_staff(
                s, email=f"{role.value}@northshire.example", name=role.value, password=PASSWORD, actor="test"
            )
            s.add(StaffRole(pilot_id=pilot.id, staff_id=member.id, role=role.value))
            staff[role] = member
        jury = Jury(pilot_id=pilot.id, title="Energy jury", remit="How should we cut emissions?", kind="jury")
        jury.size, jury.threshold, jury.quotas, jury.status = 4, 75, QUOTAS, "inviting"
        s.add(jury)
        await s.flush()
        jurors = []
        for n, name in enumerate(NAMES, start=1):
            features = {"gender": "female" if n % 2 else "male"}
            member = PoolMember(jury_id=jury.id, person_id=f"p{n}", position=n, features=features)
            s.add(member)
            await s.flush()
            juror = Juror(jury_id=jury.id, pool_member_id=member.id, role="panel", position=n, seat=n)
            juror.status, juror.room_nonce, juror.display_name = "accepted", secrets.token_hex(8), name
            s.add(juror)
            jurors.append(juror)
        s.add(PoolMember(jury_id=jury.id, person_id="p9", position=9, features={"gender": "male"}))
        await s.flush()
        moderator = Actor(
            staff[Role.MODERATOR].id, "moderator@northshire.example", "Mo", roles={pilot.id: Role.MODERATOR}
        )
        ready = Setup(db, pilot.id, jury.id, [j.id for j in jurors], moderator)
    yield ready
    await engine.dispose()


async def staff_client(client: httpx.AsyncClient, role: Role) -> httpx.AsyncClient:
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_in(other, f"{role.value}@northshire.example", PASSWORD)
    return other


async def ready_to_answer(setup: Setup) -> tuple[int, int, int]:
    """One ended session with two recommendations voted on (one passed, one not) and a draft."""
    session_id = await setup.session("Day 1")
    await setup.run(session_id, {"type": "start_session"})
    passed = await setup.recommendation(session_id, '=HYPERLINK("x") insulate homes', ["yes"] * 4)
    failed = await setup.recommendation(session_id, "Close the ring road", ["yes", "no", "no", "abstain"])
    await setup.recommendation(session_id, "Plant trees", None)
    await setup.run(
        session_id, {"type": "add_minority_report", "recommendation": failed, "text": "Cars matter."}
    )
    await setup.run(session_id, {"type": "end_session"})
    return session_id, passed, failed


async def test_the_first_session_puts_the_jury_in_session_with_its_audit(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    moderator = await staff_client(client, Role.MODERATOR)
    officer_page = await moderator.get(f"/council/juries/{setup.jury_id}")
    assert f'href="/council/juries/{setup.jury_id}/sessions"' in officer_page.text
    assert f'href="/council/juries/{setup.jury_id}/report"' in officer_page.text
    for title in ("Day 1", "Day 2"):
        created = await moderator.post(f"/council/juries/{setup.jury_id}/sessions", data={"title": title})
        assert created.status_code == 303
        assert await setup.status() == "in_session"
    assert await setup.count(AuditEntry, action="jury.in_session") == 1
    async with setup.db() as s:
        entry = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "jury.in_session"))).one()
        assert entry.actor == "moderator@northshire.example" and entry.target == f"jury:{setup.jury_id}"
    public = await client.get(f"/juries/{setup.jury_id}")
    assert public.status_code == 200
    assert "Day 1" in public.text and "Day 2" in public.text and "follow it live" in public.text
    await moderator.aclose()


async def test_responses_are_checked_next_to_their_fields_and_nothing_is_written(
    officer: httpx.AsyncClient, setup: Setup
) -> None:
    session_id, passed, failed = await ready_to_answer(setup)
    page = await officer.get(f"/council/juries/{setup.jury_id}/report")
    assert page.status_code == 200
    assert f'name="decision-{session_id}-{passed}"' in page.text
    assert f'name="explanation-{session_id}-{failed}"' in page.text
    assert "Save responses" in page.text and "Cars matter." in page.text
    url = f"/council/juries/{setup.jury_id}/report/responses"
    first, second = f"{session_id}-{passed}", f"{session_id}-{failed}"
    cases = [
        ({f"decision-{second}": "accepted"}, f"explanation-{second}", "Explain the council"),
        (
            {f"decision-{second}": "accepted", f"explanation-{second}": "y" * 5001},
            f"explanation-{second}",
            "Enter at most 5000 characters",
        ),
        ({f"explanation-{second}": "Because."}, f"decision-{second}", "Choose the council"),
        (
            {f"decision-{second}": "maybe", f"explanation-{second}": "Because."},
            f"decision-{second}",
            "Choose the council",
        ),
    ]
    for fields, field, message in cases:
        form = {
            "csrf_token": csrf_from(page.text),
            f"decision-{first}": "accepted",
            f"explanation-{first}": "We will survey every home by 2028.",
            **fields,
        }
        refused = await officer.post(url, data=form)
        assert refused.status_code == 422, fields
        assert f'id="{field}-error"' in refused.text and message in refused.text
        assert "We will survey every home by 2028." in refused.text  # what they wrote is kept
        assert await setup.count(JuryResponse) == 0  # the valid one is not written either
    form = {
        "csrf_token": csrf_from(page.text),
        f"decision-{first}": "accepted",
        f"explanation-{first}": "We will survey every home by 2028.",
        f"decision-{second}": "not_accepted",
        f"explanation-{second}": "Buses need it.",
    }
    saved = await officer.post(url, data=form)
    assert saved.status_code == 303
    assert await setup.count(JuryResponse) == 2
    assert await setup.count(AuditEntry, action="jury_report.response") == 2
    again = await officer.post(url, data=form)  # the same words again change nothing
    assert again.status_code == 303 and await setup.count(AuditEntry, action="jury_report.response") == 2
    shown = (await officer.get(f"/council/juries/{setup.jury_id}/report")).text
    assert "Buses need it." in shown and 'value="not_accepted" checked' in shown


async def test_publication_is_refused_until_the_report_is_complete_then_it_is_public(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, setup: Setup
) -> None:
    publish = f"/api/juries/{setup.jury_id}/report/publish"
    day1 = await setup.session("Day 1")
    await setup.run(day1, {"type": "start_session"})
    await setup.run(
        day1, {"type": "add_item", "phase": "evidence", "title": "Hear the officer", "minutes": 20}
    )
    await setup.run(
        day1,
        {"type": "publish_evidence", "kind": "document", "title": "Emissions 2025", "text": "Transport 41%"},
    )
    await setup.run(day1, {"type": "end_session"})
    refused = await officer.post(publish)
    assert refused.status_code == 409 and refused.json()["code"] == "nothing_voted"

    day2 = await setup.session("Day 2")
    await setup.run(day2, {"type": "start_session"})
    rec = await setup.recommendation(day2, "Insulate every school", ["yes", "yes", "yes", "no"])
    refused = await officer.post(publish)
    assert refused.status_code == 409 and refused.json()["code"] == "session_not_ended"
    assert "Day 2" in refused.json()["message"]
    await setup.run(day2, {"type": "end_session"})
    refused = await officer.post(publish)
    assert refused.status_code == 409 and refused.json()["code"] == "response_missing"
    page = await officer.post(f"/council/juries/{setup.jury_id}/report/publish", data={})
    assert page.status_code == 409 and "recommendation 1" in page.text

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as public:
        for url in ("/report", "/report.csv", "/report.json"):
            assert (await public.get(f"/juries/{setup.jury_id}{url}")).status_code == 404
    preview = await officer.get(f"/juries/{setup.jury_id}/report")
    assert preview.status_code == 200 and 'id="preview"' in preview.text

    answer = {"decision": "in_part", "explanation": "Schools first, then libraries."}
    saved = await officer.put(
        f"/api/juries/{setup.jury_id}/report/sessions/{day2}/recommendations/{rec}/response", json=answer
    )
    assert saved.status_code == 200
    assert saved.json()["recommendations"][0]["response"]["decision_label"] == "Accepted in part"
    published = await officer.post(publish)
    assert published.status_code == 200 and published.json()["status"] == "reported"
    assert await setup.status() == "reported"
    assert await setup.count(AuditEntry, action="jury.report_publish") == 1

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as public:
        report = await public.get(f"/juries/{setup.jury_id}/report")
        assert report.status_code == 200 and 'id="preview"' not in report.text
        for text in (
            "How should we cut emissions?",
            "Hear the officer",
            "Emissions 2025",
            "Insulate every school",
            "Yes 3 · No 1 · Abstain 0",
            "Passed",
            "Accepted in part",
            "Schools first, then libraries.",
            "Day 1",
            "Day 2",
        ):
            assert text in report.text, text
        assert "female" in report.text  # the panel against its quotas
        jury_page = await public.get(f"/juries/{setup.jury_id}")
        assert f'href="/juries/{setup.jury_id}/report"' in jury_page.text

    again = await officer.put(
        f"/api/juries/{setup.jury_id}/report/sessions/{day2}/recommendations/{rec}/response", json=answer
    )
    assert again.status_code == 409 and again.json()["code"] == "report_published"
    assert (await officer.post(publish)).status_code == 409
    more = await officer.post(f"/council/juries/{setup.jury_id}/sessions", data={"title": "Day 3"})
    assert more.status_code == 409
    sessions_page = (await officer.get(f"/council/juries/{setup.jury_id}/sessions")).text
    assert "takes no more sessions" in sessions_page and "Create a session" not in sessions_page


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def test_the_public_report_and_downloads_never_show_who_voted_how(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, setup: Setup
) -> None:
    session_id, passed, failed = await ready_to_answer(setup)
    for rec in (passed, failed):
        response = await officer.put(
            f"/api/juries/{setup.jury_id}/report/sessions/{session_id}/recommendations/{rec}/response",
            json={"decision": "considering", "explanation": "-We will report back in June."},
        )
        assert response.status_code == 200
    assert (await officer.post(f"/api/juries/{setup.jury_id}/report/publish")).status_code == 200
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as public:
        page = await public.get(f"/juries/{setup.jury_id}/report")
        data = await public.get(f"/juries/{setup.jury_id}/report.json")
        table = await public.get(f"/juries/{setup.jury_id}/report.csv")
    for response in (page, data, table):
        assert response.status_code == 200
        for name in NAMES:
            assert name not in response.text
    body = data.json()
    assert not _keys(body) & {"ballots", "votes", "juror", "jurors", "juror_id", "choice"}
    recs = body["recommendations"]
    assert [r["counts"] for r in recs[:2]] == [
        {"yes": 4, "no": 0, "abstain": 0},
        {"yes": 1, "no": 2, "abstain": 1},
    ]
    assert [r["passed"] for r in recs] == [True, False, None]
    assert recs[1]["minority_reports"] == ["Cars matter."]
    assert body["profile"][0]["panel"] == 2 and body["profile"][1]["pool"] == 3
    rows = list(csv.reader(io.StringIO(table.text)))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("x") insulate homes' in cells  # formulas are defused
    assert "'-We will report back in June." in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    recommendation_rows = [r for r in rows if r[0] == "recommendation"]
    assert [r[4:8] for r in recommendation_rows[:2]] == [
        ["4", "0", "0", "passed (threshold 75%)"],
        ["1", "2", "1", "not passed (threshold 75%)"],
    ]
    assert recommendation_rows[0][8] == "Still being considered"
    assert json.loads(data.text) == body


async def test_follow_ups_are_audited_and_shown_on_the_report_and_the_pilot_page(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, setup: Setup
) -> None:
    follow_ups = f"/api/juries/{setup.jury_id}/follow-ups"
    update = {
        "title": "Survey contract signed",
        "body": "The first 500 homes in May.",
        "milestone_on": "2027-05-01",
        "status": "in_progress",
    }
    early = await officer.post(follow_ups, json=update)
    assert early.status_code == 409 and early.json()["code"] == "report_not_published"
    session_id, passed, failed = await ready_to_answer(setup)
    for rec in (passed, failed):
        await officer.put(
            f"/api/juries/{setup.jury_id}/report/sessions/{session_id}/recommendations/{rec}/response",
            json={"decision": "accepted", "explanation": "Yes."},
        )
    assert (await officer.post(f"/api/juries/{setup.jury_id}/report/publish")).status_code == 200

    review = await officer.get(f"/council/juries/{setup.jury_id}/report")
    assert "Add an update" in review.text and "Save responses" not in review.text
    bad = await officer.post(
        f"/council/juries/{setup.jury_id}/follow-ups",
        data={
            "csrf_token": csrf_from(review.text),
            "title": "Hi",
            "body": "Something",
            "milestone_on": "soon",
        },
    )
    assert bad.status_code == 422 and 'id="milestone_on-error"' in bad.text and 'id="title-error"' in bad.text
    assert await setup.count(AuditEntry, action="follow_up.create") == 0
    added = await officer.post(follow_ups, json=update)
    assert added.status_code == 201 and added.json()["title"] == "Survey contract signed"
    async with setup.db() as s:
        entry = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "follow_up.create"))).one()
        assert entry.after["subject"] == f"jury:{setup.jury_id}"
    assert (await officer.get(follow_ups)).json()[0]["milestone_on"] == "2027-05-01"
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as public:
        pilot_page = await public.get(f"/pilots/{setup.pilot_id}")
        report = await public.get(f"/juries/{setup.jury_id}/report")
    assert f'href="/juries/{setup.jury_id}/report"' in pilot_page.text
    for page in (pilot_page, report):
        assert "Survey contract signed" in page.text and "The first 500 homes in May." in page.text
    assert "Survey contract signed" in report.text


async def test_moderators_and_analysts_read_the_report_but_cannot_answer_or_publish(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, setup: Setup
) -> None:
    session_id, passed, _ = await ready_to_answer(setup)
    respond = f"/api/juries/{setup.jury_id}/report/sessions/{session_id}/recommendations/{passed}/response"
    answer = {"decision": "accepted", "explanation": "Yes."}
    for role in (Role.MODERATOR, Role.ANALYST):
        other = await staff_client(client, role)
        page = await other.get(f"/council/juries/{setup.jury_id}/report")
        assert (
            page.status_code == 200
            and "Save responses" not in page.text
            and "Publish the report" not in page.text
        )
        assert "Close the ring road" in page.text
        assert (await other.get(f"/api/juries/{setup.jury_id}/report")).status_code == 200
        assert (await other.put(respond, json=answer)).status_code == 403
        assert (await other.post(f"/api/juries/{setup.jury_id}/report/publish")).status_code == 403
        form = {f"decision-{session_id}-{passed}": "accepted", f"explanation-{session_id}-{passed}": "Yes."}
        assert (
            await other.post(f"/council/juries/{setup.jury_id}/report/responses", data=form)
        ).status_code == 403
        assert (
            await other.post(f"/council/juries/{setup.jury_id}/report/publish", data={})
        ).status_code == 403
        await other.aclose()
    assert await setup.count(JuryResponse) == 0 and await setup.status() == "in_session"


async def test_the_api_checks_responses_and_describes_itself(
    officer: httpx.AsyncClient, setup: Setup
) -> None:
    session_id, passed, _ = await ready_to_answer(setup)
    base = f"/api/juries/{setup.jury_id}/report/sessions/{session_id}/recommendations"
    bad = await officer.put(f"{base}/{passed}/response", json={"decision": "maybe", "explanation": " "})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"decision", "explanation"}
    draft = (await officer.get(f"/api/juries/{setup.jury_id}/report")).json()["recommendations"][2]
    not_voted = await officer.put(
        f"{base}/{draft['id']}/response", json={"decision": "accepted", "explanation": "x"}
    )
    assert not_voted.status_code == 409 and not_voted.json()["code"] == "recommendation_not_voted"
    missing = await officer.put(f"{base}/999/response", json={"decision": "accepted", "explanation": "x"})
    assert missing.status_code == 404 and missing.json()["code"] == "recommendation_not_found"
    assert await setup.count(JuryResponse) == 0
    paths = (await officer.get("/api/openapi.json")).json()["paths"]
    assert (
        "put"
        in paths[
            "/api/juries/{jury_id}/report/sessions/{session_id}/recommendations/{recommendation_id}/response"
        ]
    )
    assert "post" in paths["/api/juries/{jury_id}/report/publish"]
    assert {"get", "post"} <= set(paths["/api/juries/{jury_id}/follow-ups"])


# The report's domain: no servers


def _room(title: str, commands: list[tuple[RoomActor, dict[str, Any]]]) -> RoomState:
    state = replay([created(title, "Remit", 60, {1: "Ann", 2: "Bo", 3: "Cy"}, now=1.0)])
    for actor, command in [(MODERATOR, {"type": "start_session"}), *commands]:
        state = replay(decide(state, actor, command, now=2.0), state)
    return state


def test_a_jury_report_combines_its_sessions_in_order_and_numbers_recommendations_across_them() -> None:
    day1 = _room(
        "Day 1",
        [
            (MODERATOR, {"type": "add_item", "phase": "welcome", "title": "Hello", "minutes": 5}),
            (MODERATOR, {"type": "draft_recommendation", "text": "First"}),
            (MODERATOR, {"type": "open_vote", "recommendation": 2, "ballot": "named"}),
            (RoomActor.juror(1), {"type": "vote", "recommendation": 2, "choice": "yes"}),
            (RoomActor.juror(2), {"type": "vote", "recommendation": 2, "choice": "no"}),
            (MODERATOR, {"type": "close_vote", "recommendation": 2}),
        ],
    )
    day2 = _room("Day 2", [(MODERATOR, {"type": "draft_recommendation", "text": "Second"})])
    data = jury_report(
        [SessionLog(7, "Day 1", day1), SessionLog(9, "Day 2", day2)],
        jury_title="Jury",
        remit="Remit",
        threshold=60,
        profile=[],
        responses={(7, 2): Response("not_accepted", "No money."), (9, 1): Response("accepted", "Ignored")},
    )
    recs = data["recommendations"]
    assert [(r["number"], r["session"], r["text"]) for r in recs] == [
        (1, "Day 1", "First"),
        (2, "Day 2", "Second"),
    ]
    assert recs[0]["counts"] == {"yes": 1, "no": 1, "abstain": 0} and recs[0]["passed"] is False
    assert recs[0]["response"] == {
        "decision": "not_accepted",
        "decision_label": "Not accepted",
        "explanation": "No money.",
    }
    assert recs[1]["response"] is None  # a draft is not answered, whatever is stored for it
    assert data["agenda"][0]["session"] == "Day 1"
    assert [s["status"] for s in data["sessions"]] == ["live", "live"]


Rec = st.tuples(st.sampled_from(["draft", "voting", "closed"]), st.booleans())


@given(
    st.lists(st.tuples(st.sampled_from(["waiting", "live", "ended"]), st.lists(Rec, max_size=4)), max_size=4)
)
def test_publication_needs_ended_sessions_a_vote_and_every_vote_answered(
    sessions: list[tuple[str, list[tuple[str, bool]]]],
) -> None:
    data: dict[str, Any] = {"sessions": [], "recommendations": []}
    for n, (status, recs) in enumerate(sessions):
        data["sessions"].append({"id": n, "title": f"Day {n}", "status": status})
        for rec_status, answered in recs:
            response = {"decision": "accepted"} if answered and rec_status == "closed" else None
            data["recommendations"].append(
                {"number": len(data["recommendations"]) + 1, "status": rec_status, "response": response}
            )
    closed = [r for r in data["recommendations"] if r["status"] == "closed"]
    if any(status != "ended" for status, _ in sessions):
        expected = "session_not_ended"
    elif not closed:
        expected = "nothing_voted"
    elif any(r["response"] is None for r in closed):
        expected = "response_missing"
    else:
        check_publishable(data)
        return
    with pytest.raises(Conflict) as refused:
        check_publishable(data)
    assert refused.value.code == expected
