"""Analysing what residents wrote, through the officers' pages: reading responses one at a time,
tagging them (each analyst their own tags), quoting, withholding (through the comment review,
audited), the theme list's guarded changes, and suggested themes that wait for an officer."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import ResponseTag, StaffRole, Theme
from polls.store.staff import create_staff
from tests.conftest import sign_in
from tests.factories import csrf_from, make_pilot, make_poll
from tests.integration.test_results_store import audit_actions
from tests.voting_setup import KINDS, issue, token, vote

NORTH = [
    "The skate park needs better lighting at night",
    "Lighting in the skate park is poor after dark",
    "Please fix the lighting by the skate park",
    "More bins in the park please, litter everywhere",
    "Litter and overflowing bins are a problem",
]
SOUTH = [
    "Empty the bins more often, the litter is awful",
    "Mae parcio ger yr ysgol yn broblem bob bore",
    "Parcio ger yr ysgol yn ofnadwy bob bore",
    "Does dim lle parcio ger yr ysgol",
    "My neighbour at 4 Elm Road parks on the pavement",
]
ANALYST = ("ann@council.example", "a long analyst password")


class Written:
    def __init__(self, pilot: dict[str, Any], poll_id: int) -> None:
        self.pilot, self.poll_id = pilot, poll_id

    @property
    def base(self) -> str:
        return f"/council/polls/{self.poll_id}/analysis"


def _ballot(poll: dict[str, Any], comment: str) -> dict[str, Any]:
    q = {x["kind"]: x for x in poll["questions"]}
    return {
        str(q["single"]["id"]): q["single"]["options"][0]["id"],
        str(q["multiple"]["id"]): [q["multiple"]["options"][0]["id"]],
        str(q["ranked"]["id"]): [q["ranked"]["options"][0]["id"]],
        str(q["scale"]["id"]): 3,
        str(q["budget"]["id"]): [q["budget"]["options"][2]["id"]],
        str(q["comment"]["id"]): comment,
    }


@pytest.fixture
async def written(client: httpx.AsyncClient, officer: httpx.AsyncClient, settings: Settings) -> Written:
    """A closed poll (k = 5) with ten comments, five from North and five from South, and an analyst."""
    pilot = await make_pilot(officer)
    areas = [
        (await officer.post(f"/api/pilots/{pilot['id']}/areas", json={"name": n, "code": c})).json()
        for n, c in (("North", "N1"), ("South", "S1"))
    ]
    poll = await make_poll(
        officer, pilot["id"], questions=KINDS, secrecy_k=5, area_ids=[a["id"] for a in areas]
    )
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    for area, texts in zip(areas, (NORTH, SOUTH), strict=True):
        for card, text in zip(await issue(settings, pilot["id"], area["id"], 5), texts, strict=True):
            assert (await vote(client, poll["id"], token(card), _ballot(poll, text))).status_code == 201
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/close")).status_code == 200
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        staff = await create_staff(session, email=ANALYST[0], name="Ann", password=ANALYST[1], actor="test")
        session.add(StaffRole(pilot_id=pilot["id"], staff_id=staff.id, role="analyst"))
    await engine.dispose()
    return Written(pilot, poll["id"])


async def _numbers(officer: httpx.AsyncClient, poll_id: int) -> dict[str, int]:
    comments = (await officer.get(f"/api/polls/{poll_id}/official/comments")).json()
    return {c["text"]: c["number"] for c in comments}


async def _add_theme(http: httpx.AsyncClient, pilot_id: int, name: str) -> int:
    page = await http.get(f"/council/pilots/{pilot_id}/themes")
    added = await http.post(
        f"/council/pilots/{pilot_id}/themes", data={"csrf_token": csrf_from(page.text), "name": name}
    )
    assert added.status_code == 303, added.text
    listing = (await http.get(f"/council/pilots/{pilot_id}/themes")).text
    found = re.search(rf'id="theme-(\d+)">\s*<th scope="row" class="govuk-table__header">{name}', listing)
    assert found, listing
    return int(found.group(1))


async def _tag(
    http: httpx.AsyncClient, w: Written, number: int, themes: list[int], quote: bool | None = None
) -> None:
    """Tick ``themes`` on the response's form and save; the quote box stays as the page shows it
    unless ``quote`` says otherwise, as a person using the form would leave it."""
    page = await http.get(f"{w.base}/responses/{number}")
    assert page.status_code == 200
    shown = re.search(r'id="quote"[^>]*checked', page.text) is not None
    data: dict[str, Any] = {
        "csrf_token": csrf_from(page.text),
        "themes": [str(t) for t in themes],
        "next": "yes",
    }
    if shown if quote is None else quote:
        data["quote"] = "yes"
    saved = await http.post(f"{w.base}/responses/{number}", data=data)
    assert saved.status_code == 303 and saved.headers["location"].endswith(f"/responses/{number + 1}")


async def _tag_count(db: AsyncSession) -> int:
    n = int(await db.scalar(select(func.count()).select_from(ResponseTag)) or 0)
    await db.rollback()
    return n


async def test_two_analysts_tag_the_same_responses_and_see_where_they_disagree(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, written: Written, db: AsyncSession
) -> None:
    numbers = await _numbers(officer, written.poll_id)
    lighting = await _add_theme(officer, written.pilot["id"], "Lighting")
    litter = await _add_theme(officer, written.pilot["id"], "Litter")
    for text in NORTH[:3]:
        await _tag(officer, written, numbers[text], [lighting], quote=text == NORTH[0])
    for text in NORTH[3:] + SOUTH[:1]:
        await _tag(officer, written, numbers[text], [litter])
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as analyst:
        await sign_in(analyst, *ANALYST)
        await _tag(analyst, written, numbers[NORTH[0]], [lighting])
        await _tag(analyst, written, numbers[NORTH[1]], [lighting, litter])  # Ann reads litter too
        reader = (await analyst.get(f"{written.base}/responses/{numbers[NORTH[1]]}")).text
        overview = (await analyst.get(written.base)).text
    assert "How each analyst tagged it" in reader and "not all agree" in reader
    assert "Ada Admin" in reader and "Ann" in reader
    disagreements = overview.split('id="disagreements"')[1].split('id="quotes"')[0]
    assert f"Response {numbers[NORTH[1]]}</a>: Litter" in disagreements
    assert f"Response {numbers[NORTH[0]]}<" not in disagreements  # they agree there
    quotes = overview.split('id="quotes"')[1].split('id="suggestions"')[0]
    assert NORTH[0] in quotes and NORTH[1] not in quotes
    counts = overview.split('id="theme-counts"')[1].split("</table>")[0]
    # Litter: 3 North (two by Ada, one by Ann) and 1 South: under k = 5, so hidden.
    assert re.search(
        r"Litter</th><td[^>]*>4</td>\s*<td[^>]*>North: fewer than 5; South: fewer than 5", counts
    )
    assert re.search(r"Lighting</th><td[^>]*>3</td>", counts)
    assert await _tag_count(db) == 6 + 3  # each analyst's tags are their own rows
    read = await audit_actions(db, "analysis.response_read")
    assert len(read) == 8 and all(t not in repr(read) for t in NORTH + SOUTH)


async def test_counts_by_area_show_cells_of_k_or_more(officer: httpx.AsyncClient, written: Written) -> None:
    numbers = await _numbers(officer, written.poll_id)
    everything = await _add_theme(officer, written.pilot["id"], "Anything")
    for text in NORTH:
        await _tag(officer, written, numbers[text], [everything])
    page = (await officer.get(written.base)).text
    assert re.search(
        r"Anything</th><td[^>]*>5</td>\s*<td[^>]*>North: 5; South: 0</td>\s*<td[^>]*>Online: 5", page
    )


async def test_withholding_from_the_analysis_is_the_audited_comment_review(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, written: Written, db: AsyncSession
) -> None:
    numbers = await _numbers(officer, written.poll_id)
    target = numbers[SOUTH[4]]
    url = f"{written.base}/responses/{target}"
    token_ = csrf_from((await officer.get(url)).text)
    missing = await officer.post(f"{url}/withhold", data={"csrf_token": token_})
    assert missing.status_code == 422 and 'id="reason-error"' in missing.text
    done = await officer.post(f"{url}/withhold", data={"csrf_token": token_, "reason": "identifying"})
    assert done.status_code == 303
    entries = await audit_actions(db, "results.comment_withheld")
    assert len(entries) == 1 and entries[0]["after"]["reason"] == "identifying"
    assert "Elm Road" not in repr(entries)
    page = (await officer.get(url)).text
    assert "takes no part in the analysis" in page and "data-analysis-form" not in page
    refused = await officer.post(url, data={"csrf_token": token_, "quote": "yes"})
    assert refused.status_code == 409
    overview = (await officer.get(written.base)).text
    assert "1 withheld" in overview
    # An analyst may read and tag, but only council admins withhold.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as analyst:
        await sign_in(analyst, *ANALYST)
        other = f"{written.base}/responses/{numbers[SOUTH[1]]}"
        page = await analyst.get(other)
        assert "Withhold this response" not in page.text
        tried = await analyst.post(
            f"{other}/withhold", data={"csrf_token": csrf_from(page.text), "reason": "abusive"}
        )
        assert tried.status_code == 403


async def test_renaming_or_deleting_a_theme_in_use_asks_first(
    officer: httpx.AsyncClient, written: Written, db: AsyncSession
) -> None:
    numbers = await _numbers(officer, written.poll_id)
    pilot_id = written.pilot["id"]
    theme = await _add_theme(officer, pilot_id, "Lights")
    unused = await _add_theme(officer, pilot_id, "Unused")
    await _tag(officer, written, numbers[NORTH[0]], [theme])
    url = f"/council/pilots/{pilot_id}/themes"
    token_ = csrf_from((await officer.get(url)).text)
    taken = await officer.post(url, data={"csrf_token": token_, "name": "lights"})
    assert taken.status_code == 409 and "already has a theme called" in taken.text
    asked = await officer.post(f"{url}/{theme}", data={"csrf_token": token_, "name": "Street lighting"})
    assert asked.status_code == 409 and "1 tag uses this theme: confirm to rename it" in asked.text
    assert "Yes, rename it" in asked.text
    assert (await officer.get(url)).text.count("Street lighting") == 0  # nothing changed yet
    confirmed = await officer.post(
        f"{url}/{theme}", data={"csrf_token": token_, "name": "Street lighting", "confirm": "yes"}
    )
    assert confirmed.status_code == 303
    asked = await officer.post(f"{url}/{theme}", data={"csrf_token": token_, "name": "x", "delete": "yes"})
    assert asked.status_code == 409 and "confirm to delete it" in asked.text
    assert await _tag_count(db) == 1
    gone = await officer.post(f"{url}/{unused}", data={"csrf_token": token_, "delete": "yes"})
    assert gone.status_code == 303  # no tags: no question
    gone = await officer.post(
        f"{url}/{theme}", data={"csrf_token": token_, "delete": "yes", "confirm": "yes"}
    )
    assert gone.status_code == 303 and await _tag_count(db) == 0
    changed = await audit_actions(db, "analysis.theme_changed")
    assert changed[0]["before"]["name"] == "Lights" and changed[0]["after"]["tags"] == 1
    assert len(await audit_actions(db, "analysis.theme_deleted")) == 2


async def test_suggested_themes_change_nothing_until_an_officer_accepts(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, written: Written, db: AsyncSession
) -> None:
    numbers = await _numbers(officer, written.poll_id)
    page = await officer.get(written.base)
    token_ = csrf_from(page.text)
    bad = await officer.post(f"{written.base}/suggestions", data={"csrf_token": token_, "groups": "99"})
    assert bad.status_code == 422 and "Choose between 2 and 20 groups" in bad.text
    made = await officer.post(f"{written.base}/suggestions", data={"csrf_token": token_, "groups": "4"})
    assert made.status_code == 303
    overview = (await officer.get(written.base)).text
    ids = [int(i) for i in re.findall(r'id="suggestion-(\d+)"', overview)]
    assert len(ids) >= 2 and "Key phrases:" in overview and "parcio" in overview
    async with db.begin():
        assert (await db.scalar(select(func.count()).select_from(Theme))) == 0
    await db.rollback()
    assert await _tag_count(db) == 0
    # Analysts see the suggestions but only council admins decide.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as analyst:
        await sign_in(analyst, *ANALYST)
        seen = await analyst.get(written.base)
        assert "Accept as a theme" not in seen.text
        tried = await analyst.post(
            f"/council/theme-suggestions/{ids[0]}",
            data={"csrf_token": csrf_from(seen.text), "decision": "accept"},
        )
        assert tried.status_code == 403
    welsh = next(i for i in ids if "parcio" in overview.split(f'id="suggestion-{i}"')[1].split("</form>")[0])
    accepted = await officer.post(
        f"/council/theme-suggestions/{welsh}",
        data={"csrf_token": token_, "decision": "accept", "name": "Parking by the school"},
    )
    assert accepted.status_code == 303
    rejected = next(i for i in ids if i != welsh)
    assert (
        await officer.post(
            f"/council/theme-suggestions/{rejected}", data={"csrf_token": token_, "decision": "reject"}
        )
    ).status_code == 303
    again = await officer.post(
        f"/council/theme-suggestions/{welsh}", data={"csrf_token": token_, "decision": "reject"}
    )
    assert again.status_code == 409
    overview = (await officer.get(written.base)).text
    counts = overview.split('id="theme-counts"')[1].split("</table>")[0]
    assert re.search(r"Parking by the school</th><td[^>]*>3</td>", counts)
    school = {numbers[t] for t in SOUTH[1:4]}
    tagged = set((await db.scalars(select(ResponseTag.number))).all())
    await db.rollback()
    assert tagged == school
    assert len(await audit_actions(db, "analysis.suggestion_accepted")) == 1
    assert len(await audit_actions(db, "analysis.suggestion_rejected")) == 1


async def test_a_poll_nobody_wrote_in_gives_an_empty_analysis(
    officer: httpx.AsyncClient, written: Written
) -> None:
    poll = await make_poll(officer, written.pilot["id"], questions=KINDS)
    for action in ("open", "close"):
        assert (await officer.post(f"/api/polls/{poll['id']}/actions/{action}")).status_code == 200
    page = await officer.get(f"/council/polls/{poll['id']}/analysis")
    assert page.status_code == 200 and 'id="no-responses"' in page.text
    made = await officer.post(
        f"/council/polls/{poll['id']}/analysis/suggestions",
        data={"csrf_token": csrf_from(page.text), "groups": "4"},
    )
    assert made.status_code == 422 and "no written responses to analyse" in made.text
    api = await officer.post(f"/api/polls/{poll['id']}/analysis/suggestions", json={"groups": 4})
    assert api.status_code == 409 and api.json()["code"] == "no_responses"
    open_poll = await make_poll(officer, written.pilot["id"], questions=KINDS)
    early = await officer.get(f"/council/polls/{open_poll['id']}/analysis")
    assert early.status_code == 409 and "has not closed" in early.text


async def test_the_json_api_tags_counts_and_guards_theme_changes(
    officer: httpx.AsyncClient, written: Written, db: AsyncSession
) -> None:
    numbers = await _numbers(officer, written.poll_id)
    themes = f"/api/pilots/{written.pilot['id']}/themes"
    bad = await officer.post(themes, json={"name": "  "})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    theme = (await officer.post(themes, json={"name": "Lighting"})).json()
    assert theme["tags"] == 0
    taken = await officer.post(themes, json={"name": "LIGHTING"})
    assert taken.status_code == 409 and taken.json()["code"] == "theme_name_taken"
    api = f"/api/polls/{written.poll_id}/analysis"
    for text in NORTH[:3]:
        tagged = await officer.put(
            f"{api}/responses/{numbers[text]}", json={"themes": [theme["id"]], "quote": True}
        )
        assert tagged.status_code == 200
    unknown = await officer.put(f"{api}/responses/{numbers[NORTH[3]]}", json={"themes": [999999]})
    assert unknown.status_code == 404 and unknown.json()["code"] == "theme_not_found"
    missing = await officer.put(f"{api}/responses/99", json={"themes": []})
    assert missing.status_code == 404 and missing.json()["code"] == "comment_not_found"
    summary = (await officer.get(api)).json()
    assert summary["responses"] == 10 and summary["secrecy_k"] == 5
    assert summary["themes"] == [
        {"id": theme["id"], "name": "Lighting", "responses": 3}
        | {"by_area": {"North": None, "South": 0}, "by_channel": {"online": None}}
    ]
    assert sorted(summary["quotes"]) == sorted(numbers[t] for t in NORTH[:3])
    renamed = await officer.put(f"{themes}/{theme['id']}", json={"name": "Street lights"})
    assert renamed.status_code == 409 and renamed.json()["code"] == "theme_in_use"
    assert "3 tags use this theme" in renamed.json()["message"]
    renamed = await officer.put(f"{themes}/{theme['id']}", json={"name": "Street lights", "confirm": True})
    assert renamed.status_code == 200 and renamed.json()[0]["name"] == "Street lights"
    refused = await officer.delete(f"{themes}/{theme['id']}")
    assert refused.status_code == 409 and await _tag_count(db) == 3
    made = await officer.post(f"{api}/suggestions", json={"groups": 4})
    assert made.status_code == 200 and all(s["status"] == "pending" for s in made.json())
    rename_only = await officer.put(
        f"/api/theme-suggestions/{made.json()[0]['id']}", json={"decision": "rename"}
    )
    assert rename_only.status_code == 422  # a rename needs the new name
    assert (await officer.delete(f"{themes}/{theme['id']}?confirm=true")).json() == []
    assert await _tag_count(db) == 0


async def test_two_officers_adding_one_theme_name_at_once_make_one_theme(
    officer: httpx.AsyncClient, written: Written, db: AsyncSession
) -> None:
    # Names differ only in case, which the unique index does not catch: the pilot's lock must.
    themes = f"/api/pilots/{written.pilot['id']}/themes"
    for attempt in range(5):
        names = [f"Parks {attempt}", f"PARKS {attempt}", f"parks {attempt}"]
        answers = await asyncio.gather(*(officer.post(themes, json={"name": n}) for n in names))
        assert sorted(a.status_code for a in answers) == [201, 409, 409]
        assert {a.json()["code"] for a in answers if a.status_code == 409} == {"theme_name_taken"}
    stored = (await db.scalars(select(Theme.name).where(Theme.name.ilike("parks%")))).all()
    assert len(stored) == 5
