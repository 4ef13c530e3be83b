"""The voting set-up shared by voting tests: a pilot, areas, an open poll of every kind, codes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from polls.domain.access import Actor
from polls.settings import Settings
from polls.store.codes import IssuedCode, issue_codes
from polls.store.db import open_engine, sessions_for
from polls.tokens import VOTER_CODE, Tokens
from tests.factories import SECRET, make_pilot, make_poll

KINDS: list[dict[str, Any]] = [
    {"kind": "single", "title": "Favourite park?", "options": [{"label": "North"}, {"label": "South"}]},
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
        "options": [{"label": "A"}, {"label": "B"}, {"label": "C"}],
    },
    {"kind": "scale", "title": "How happy?", "scale_min": 1, "scale_max": 5},
    {
        "kind": "budget",
        "title": "Share £100",
        "budget_total": 100,
        "options": [
            {"label": "Trees", "cost": 60},
            {"label": "Benches", "cost": 50},
            {"label": "Bins", "cost": 30},
        ],
    },
    {"kind": "comment", "title": "Anything else?", "max_length": 50},
]


class Setup:
    def __init__(self, pilot: dict[str, Any], poll: dict[str, Any], areas: list[dict[str, Any]]) -> None:
        self.pilot, self.poll, self.areas = pilot, poll, areas
        self.q = {q["kind"]: q for q in poll["questions"]}
        self.codes: dict[str, list[IssuedCode]] = {}
        self.codes_for_restart: list[IssuedCode] = []

    def option(self, kind: str, index: int) -> int:
        return int(self.q[kind]["options"][index]["id"])

    def full_ballot(self) -> dict[str, Any]:
        return {
            str(self.q["single"]["id"]): self.option("single", 1),
            str(self.q["multiple"]["id"]): [self.option("multiple", 0), self.option("multiple", 2)],
            str(self.q["ranked"]["id"]): [self.option("ranked", 2), self.option("ranked", 0)],
            str(self.q["scale"]["id"]): 4,
            str(self.q["budget"]["id"]): [self.option("budget", 0), self.option("budget", 2)],
            str(self.q["comment"]["id"]): "More trees please",
        }


def token(card: IssuedCode) -> str:
    """The card's voting link token: it carries the card's short code."""
    return Tokens((SECRET,)).sign(VOTER_CODE, card.short_code)


async def issue(settings: Settings, pilot_id: int, area_id: int, n: int) -> list[IssuedCode]:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            batch = await issue_codes(
                session, Actor(0, "test", "test", is_site_admin=True), pilot_id, area_id, n
            )
            return batch.codes
    finally:
        await engine.dispose()


@pytest.fixture
async def voting(officer: httpx.AsyncClient, settings: Settings) -> Setup:
    pilot = await make_pilot(officer)
    areas = []
    for name, code in (("North", "N1"), ("South", "S1"), ("East", "E1")):
        response = await officer.post(f"/api/pilots/{pilot['id']}/areas", json={"name": name, "code": code})
        areas.append(response.json())
    poll = await make_poll(
        officer,
        pilot["id"],
        questions=KINDS,
        results_visibility="live",
        area_ids=[areas[0]["id"], areas[1]["id"]],
    )
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    setup = Setup(pilot, poll, areas)
    setup.codes["north"] = await issue(settings, pilot["id"], areas[0]["id"], 5)
    setup.codes_for_restart = await issue(settings, pilot["id"], areas[1]["id"], 5)
    setup.codes["east"] = await issue(settings, pilot["id"], areas[2]["id"], 1)
    return setup


async def vote(http: httpx.AsyncClient, poll_id: int, code: str, answers: Any) -> httpx.Response:
    return await http.post(f"/api/polls/{poll_id}/votes", json={"code": code, "answers": answers})


# A receipt as shown and listed (polls.domain.trackers): five groups of four characters.
TRACKER = r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){4}"

STEP = 10  # the default secrecy_k: live figures move once this many ballots are in


def one_step_of_codes(setup: Setup) -> list[IssuedCode]:
    """Exactly one step's worth of codes that may vote in the set-up's poll (North and South)."""
    return [*setup.codes["north"], *setup.codes_for_restart][:STEP]


async def officer_closes(officer: httpx.AsyncClient, poll_id: int) -> None:
    """Close the poll (the client must be signed in as an officer): its exact figures go public."""
    response = await officer.post(f"/api/polls/{poll_id}/actions/close")
    assert response.status_code == 200, response.text


async def settled_tallies(runtime: Any, poll_id: int) -> Any:
    """The live tally check once the writer has counted what it answered (it counts, and
    rebuilds lost tallies, just after answering): tallies converge, within a few seconds."""
    check = await runtime.tallies.check(poll_id)
    for _ in range(100):
        if check.agrees:
            break
        await asyncio.sleep(0.05)
        check = await runtime.tallies.check(poll_id)
    return check
