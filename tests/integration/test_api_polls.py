"""Officers draft polls with six kinds of question and move them through their lifecycle."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polls.store.models import AuditEntry, Question
from tests.conftest import count
from tests.factories import later, make_pilot, make_poll, single_question

ALL_KINDS: list[dict[str, Any]] = [
    single_question(),
    {
        "kind": "multiple",
        "title": "Which do you use?",
        "min_choices": 1,
        "max_choices": 2,
        "options": [{"label": "Bus"}, {"label": "Bike"}, {"label": "Car"}],
    },
    {
        "kind": "ranked",
        "title": "Rank the projects",
        "seats": 2,
        "options": [{"label": "A"}, {"label": "B"}, {"label": "C"}],
    },
    {
        "kind": "scale",
        "title": "How satisfied are you?",
        "scale_min": 0,
        "scale_max": 10,
        "min_label": "Not at all",
        "max_label": "Completely",
    },
    {
        "kind": "budget",
        "title": "Share the budget",
        "budget_total": 1000,
        "options": [{"label": "Trees", "cost": 400}, {"label": "Benches", "cost": 300}],
    },
    {"kind": "comment", "title": "Anything else?", "max_length": 500},
]


@pytest.fixture
async def pilot(officer: httpx.AsyncClient) -> dict[str, Any]:
    return await make_pilot(officer)


async def test_a_poll_with_every_kind_of_question_keeps_their_order(
    officer: httpx.AsyncClient, pilot: dict[str, Any]
) -> None:
    poll = await make_poll(officer, pilot["id"], questions=ALL_KINDS, results_visibility="live")
    fetched = (await officer.get(f"/api/polls/{poll['id']}")).json()
    assert [q["kind"] for q in fetched["questions"]] == [
        "single",
        "multiple",
        "ranked",
        "scale",
        "budget",
        "comment",
    ]
    assert fetched["questions"][1]["settings"] == {"min_choices": 1, "max_choices": 2}
    assert fetched["questions"][2]["settings"] == {
        "seats": 2,
        "ranking_rule": "scottish",
        "stv_transfers": "scottish",
    }
    assert fetched["questions"][4]["settings"]["mes_utility"] == "cost"
    assert [o["cost"] for o in fetched["questions"][4]["options"]] == [400, 300]
    assert fetched["status"] == "draft"
    assert set(fetched["allowed_actions"]) == {"schedule", "open"}


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ({"kind": "single", "title": "One option only", "options": [{"label": "Yes"}]}, "at least 2 options"),
        (
            {
                "kind": "multiple",
                "title": "Too many",
                "max_choices": 5,
                "options": [{"label": "A"}, {"label": "B"}],
            },
            "cannot exceed the 2 options",
        ),
        (
            {"kind": "ranked", "title": "Seats", "seats": 2, "options": [{"label": "A"}, {"label": "B"}]},
            "more options than seats",
        ),
        ({"kind": "scale", "title": "Upside down", "scale_min": 5, "scale_max": 1}, "above the bottom"),
        (
            {
                "kind": "budget",
                "title": "No costs",
                "budget_total": 10,
                "options": [{"label": "A"}, {"label": "B"}],
            },
            "cost",
        ),
        (
            {
                "kind": "budget",
                "title": "Too dear",
                "budget_total": 10,
                "options": [{"label": "A", "cost": 11}, {"label": "B", "cost": 1}],
            },
            "more than the total",
        ),
        (
            {"kind": "comment", "title": "With options", "options": [{"label": "A"}, {"label": "B"}]},
            "no options",
        ),
        (
            {
                "kind": "single",
                "title": "Scale label on a choice",
                "min_label": "low",
                "options": [{"label": "A"}, {"label": "B"}],
            },
            "Scale labels",
        ),
        ({"kind": "poll", "title": "Unknown kind"}, "Input should be"),
        (
            {
                "kind": "ranked",
                "title": "Ties",
                "ranking_rule": "texan",
                "options": [{"label": "A"}, {"label": "B"}],
            },
            "The rule for tied or skipped ranks is one of scottish, us, skip_tied, one_left",
        ),
        (
            {
                "kind": "budget",
                "title": "Completion",
                "budget_total": 10,
                "mes_completion": "add2",
                "options": [{"label": "A", "cost": 5}, {"label": "B", "cost": 5}],
            },
            "The completion is one of",
        ),
    ],
)
async def test_invalid_questions_are_refused_with_a_reason(
    officer: httpx.AsyncClient,
    pilot: dict[str, Any],
    db: AsyncSession,
    question: dict[str, Any],
    fragment: str,
) -> None:
    poll = await make_poll(officer, pilot["id"], questions=[])
    response = await officer.post(f"/api/polls/{poll['id']}/questions", json=question)
    assert response.status_code == 422
    assert fragment in " ".join(e["message"] for e in response.json()["errors"])
    assert await count(db, Question) == 0


async def test_questions_can_be_reordered_and_replaced_while_draft(
    officer: httpx.AsyncClient, pilot: dict[str, Any]
) -> None:
    poll = await make_poll(officer, pilot["id"], questions=ALL_KINDS[:3])
    ids = [q["id"] for q in poll["questions"]]
    reordered = await officer.put(
        f"/api/polls/{poll['id']}/questions/order", json={"question_ids": ids[::-1]}
    )
    assert reordered.status_code == 200
    assert [q["id"] for q in reordered.json()["questions"]] == ids[::-1]
    bad = await officer.put(f"/api/polls/{poll['id']}/questions/order", json={"question_ids": ids[:2]})
    assert bad.status_code == 422
    swapped = single_question(options=[{"label": "No"}, {"label": "Yes"}, {"label": "Not sure"}])
    replaced = await officer.put(f"/api/polls/{poll['id']}/questions/{ids[0]}", json=swapped)
    assert [o["label"] for o in replaced.json()["options"]] == ["No", "Yes", "Not sure"]
    assert (await officer.delete(f"/api/polls/{poll['id']}/questions/{ids[1]}")).status_code == 204
    remaining = (await officer.get(f"/api/polls/{poll['id']}")).json()["questions"]
    assert [q["position"] for q in remaining] == [0, 1]


async def test_poll_moves_through_its_whole_lifecycle(
    officer: httpx.AsyncClient, pilot: dict[str, Any]
) -> None:
    poll = await make_poll(officer, pilot["id"], opens_at=later(1), closes_at=later(48))
    url = f"/api/polls/{poll['id']}/actions"
    statuses = []
    for action in ["schedule", "unschedule", "schedule", "open", "close", "review", "publish"]:
        response = await officer.post(f"{url}/{action}")
        assert response.status_code == 200, (action, response.text)
        statuses.append(response.json()["status"])
    assert statuses == ["scheduled", "draft", "scheduled", "open", "closed", "under_review", "published"]


async def test_open_poll_questions_cannot_change(
    officer: httpx.AsyncClient, pilot: dict[str, Any], db: AsyncSession
) -> None:
    poll = await make_poll(officer, pilot["id"])
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    audit_before = await count(db, AuditEntry)
    question_id = poll["questions"][0]["id"]
    attempts = [
        officer.post(f"/api/polls/{poll['id']}/questions", json=single_question()),
        officer.put(
            f"/api/polls/{poll['id']}/questions/{question_id}", json=single_question(title="Changed title")
        ),
        officer.delete(f"/api/polls/{poll['id']}/questions/{question_id}"),
        officer.put(f"/api/polls/{poll['id']}/questions/order", json={"question_ids": [question_id]}),
        officer.put(f"/api/polls/{poll['id']}", json={"title": "A new title"}),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 409
        assert response.json()["code"] == "poll_not_editable"
    assert await count(db, AuditEntry) == audit_before


@pytest.mark.parametrize(
    ("steps", "action", "code"),
    [
        ([], "publish", "cannot_publish_draft"),
        ([], "close", "cannot_close_draft"),
        (["open"], "schedule", "cannot_schedule_open"),
        (["open", "close"], "open", "cannot_open_closed"),
    ],
)
async def test_transitions_that_are_not_allowed_get_409_with_a_code(
    officer: httpx.AsyncClient, pilot: dict[str, Any], steps: list[str], action: str, code: str
) -> None:
    poll = await make_poll(officer, pilot["id"])
    for step in steps:
        assert (await officer.post(f"/api/polls/{poll['id']}/actions/{step}")).status_code == 200
    response = await officer.post(f"/api/polls/{poll['id']}/actions/{action}")
    assert response.status_code == 409
    assert response.json()["code"] == code


async def test_scheduling_needs_questions_and_times(
    officer: httpx.AsyncClient, pilot: dict[str, Any]
) -> None:
    empty = await make_poll(officer, pilot["id"], questions=[], opens_at=later(1), closes_at=later(2))
    response = await officer.post(f"/api/polls/{empty['id']}/actions/schedule")
    assert (response.status_code, response.json()["code"]) == (409, "poll_has_no_questions")
    untimed = await make_poll(officer, pilot["id"])
    response = await officer.post(f"/api/polls/{untimed['id']}/actions/schedule")
    assert (response.status_code, response.json()["code"]) == (409, "poll_times_missing")
    unknown = await officer.post(f"/api/polls/{untimed['id']}/actions/explode")
    assert unknown.status_code == 422


async def test_closing_before_opening_and_foreign_areas_are_refused(
    officer: httpx.AsyncClient, pilot: dict[str, Any]
) -> None:
    url = f"/api/pilots/{pilot['id']}/polls"
    response = await officer.post(
        url, json={"title": "Backwards", "opens_at": later(5), "closes_at": later(1)}
    )
    assert response.status_code == 422
    assert "closing time" in response.json()["errors"][0]["message"]
    response = await officer.post(url, json={"title": "Naive time", "opens_at": "2030-01-01T09:00"})
    assert response.status_code == 422
    other = await make_pilot(officer, name="Another pilot")
    area = (
        await officer.post(f"/api/pilots/{other['id']}/areas", json={"name": "Elsewhere", "code": "X1"})
    ).json()
    response = await officer.post(url, json={"title": "Wrong area", "area_ids": [area["id"]]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "area_ids"


async def test_unknown_poll_and_question_are_404(officer: httpx.AsyncClient, pilot: dict[str, Any]) -> None:
    assert (await officer.get("/api/polls/12345")).json()["code"] == "poll_not_found"
    poll = await make_poll(officer, pilot["id"])
    response = await officer.delete(f"/api/polls/{poll['id']}/questions/999")
    assert (response.status_code, response.json()["code"]) == (404, "question_not_found")


async def test_every_change_is_in_the_pilot_audit_log(
    officer: httpx.AsyncClient, pilot: dict[str, Any]
) -> None:
    poll = await make_poll(officer, pilot["id"])
    await officer.post(f"/api/polls/{poll['id']}/actions/open")
    entries = (await officer.get(f"/api/pilots/{pilot['id']}/audit")).json()
    actions = [e["action"] for e in entries]
    assert actions[:4] == ["poll.open", "poll.create", "pilot.officer_key", "pilot.create"]
    opened = entries[0]
    assert opened["actor"] == "admin@council.example"
    assert (opened["before"], opened["after"]) == ({"status": "draft"}, {"status": "open"})
    assert all(len(e["hash"]) == 64 for e in entries)


async def test_openapi_document_describes_the_api(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert "post" in doc["paths"]["/api/pilots/{pilot_id}/polls"]
    assert "QuestionSpec" in doc["components"]["schemas"]
    body = doc["paths"]["/api/pilots"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/PilotSpec")


async def test_openapi_document_lists_the_vote_results_and_trackers(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    vote = paths["/api/polls/{poll_id}/votes"]["post"]
    assert vote["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/VoteSpec")
    assert not any(p["name"] == "X-CSRF-Token" for p in vote.get("parameters", []))
    assert "get" in paths["/api/polls/{poll_id}/results"]
    assert "get" in paths["/api/polls/{poll_id}/trackers"]
