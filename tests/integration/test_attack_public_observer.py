"""Adversary 1, the public observer: watches everything public about an open poll (live counts
through the API and the results page, the receipt list through the API and its page) and the
officer's live turnout, while residents vote one at a time, and tries to tie each ballot to the
resident who just voted by diffing what changed between two looks.

The defence: everything public moves in steps of at least k ballots (the poll's ``secrecy_k``),
so every change the observer sees covers k ballots or more; closing publishes the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from polls.settings import Settings
from tests.factories import make_pilot, make_poll
from tests.voting_setup import TRACKER, issue, settled_tallies, token, vote

K = 10  # the default: the poll below does not set it
VOTERS = 2 * K + 3


@dataclass(frozen=True)
class Look:
    """One look at everything public (and the officer's turnout figure)."""

    counts: tuple[tuple[str, Any], ...]
    trackers: frozenset[str]
    page_numbers: tuple[str, ...]
    tracker_page: frozenset[str]
    staff_ballots: str

    @property
    def ballots(self) -> int:
        return int(dict(self.counts)["ballots"])


def _flatten(results: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    flat: list[tuple[str, Any]] = [("ballots", results["ballots"])]
    for q in results["questions"]:
        flat += [(f"q{q['id']}:o{o['id']}", o["count"]) for o in q.get("options", [])]
    flat += [(f"area:{t['area_id']}", t["ballots"]) for t in results["turnout"]]
    return tuple(flat)


async def _look(public: httpx.AsyncClient, officer: httpx.AsyncClient, poll_id: int) -> Look:
    results = (await public.get(f"/api/polls/{poll_id}/results")).json()
    trackers = (await public.get(f"/api/polls/{poll_id}/trackers")).json()["trackers"]
    page = (await public.get(f"/polls/{poll_id}/results")).text
    listed = (await public.get(f"/polls/{poll_id}/trackers")).text
    staff = (await officer.get(f"/council/polls/{poll_id}")).text
    found = re.search(r'id="turnout-ballots">(\d+)<', staff)
    return Look(
        counts=_flatten(results),
        trackers=frozenset(trackers),
        page_numbers=tuple(re.findall(r'data-count="[^"]+">(\d+)<', page)),
        tracker_page=frozenset(re.findall(r"<code>(" + TRACKER + r")</code>", listed)),
        staff_ballots=found.group(1) if found else "",
    )


async def _open_poll(officer: httpx.AsyncClient, settings: Settings) -> tuple[int, list[str], list[int]]:
    pilot = await make_pilot(officer)
    area = (
        await officer.post(f"/api/pilots/{pilot['id']}/areas", json={"name": "North", "code": "N1"})
    ).json()
    poll = await make_poll(officer, pilot["id"], results_visibility="live")
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    codes = await issue(settings, pilot["id"], area["id"], VOTERS)
    options = [o["id"] for o in poll["questions"][0]["options"]]
    return poll["id"], [token(c) for c in codes], options


async def test_observer_cannot_tie_a_ballot_to_the_resident_who_just_voted(
    officer: httpx.AsyncClient, settings: Settings
) -> None:
    poll_id, codes, options = await _open_poll(officer, settings)
    question = str((await officer.get(f"/api/polls/{poll_id}")).json()["questions"][0]["id"])
    runtime = officer._transport.app.state.runtime  # type: ignore[attr-defined]
    attributed = 0
    async with httpx.AsyncClient(transport=officer._transport, base_url="http://testserver") as public:
        before = await _look(public, officer, poll_id)
        changes: list[int] = []  # how many ballots each observed change covered
        for n, code in enumerate(codes, start=1):
            choice = options[n % 2 if n % 3 else 0]
            response = await vote(public, poll_id, code, {question: choice})
            assert response.status_code == 201, response.text
            await settled_tallies(runtime, poll_id)  # the observer looks once the vote is counted
            after = await _look(public, officer, poll_id)
            if after != before:
                # Everything public changed together, by one step.
                assert after.counts != before.counts and after.trackers != before.trackers
                changes.append(after.ballots - before.ballots)
                assert len(after.trackers - before.trackers) == after.ballots - before.ballots
                if after.ballots - before.ballots == 1:
                    attributed += 1  # a lone new ballot: the observer knows who cast it
            assert after.page_numbers[0] == str(after.ballots)
            assert after.tracker_page == after.trackers
            assert after.staff_ballots == str(after.ballots)  # staff see the same steps
            if n == K - 1:
                public_before_first_step = (after.ballots, len(after.trackers))
            before = after
        assert attributed == 0, f"{attributed} of {VOTERS} ballots tied to their voter"
        assert public_before_first_step == (0, 0)  # after k-1 votes nothing public has changed
        assert changes and all(step >= K for step in changes)
        assert before.ballots == VOTERS - VOTERS % K
        # Closing publishes the remainder: every receipt and the exact counts.
        assert (await officer.post(f"/api/polls/{poll_id}/actions/close")).status_code == 200
        closed = await _look(public, officer, poll_id)
        assert closed.ballots == VOTERS and len(closed.trackers) == VOTERS
