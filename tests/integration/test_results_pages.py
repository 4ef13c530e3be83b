"""Results pages: officers review and publish; the public sees charts with accessible names, the
same numbers in tables, rounds, turnout, responses, follow-ups and downloads that parse, and
nothing at all before publication."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballot_files import read_pabulib, read_published
from polls.domain.counting import official
from polls.domain.counting.results import as_json
from polls.store.models import AuditEntry, QuestionResult
from tests.factories import csrf_from, pilot_body
from tests.integration.test_results_store import publish_comments, vote_and_close
from tests.voting_setup import Setup


async def publish(officer: httpx.AsyncClient, poll_id: int) -> None:
    await publish_comments(officer, poll_id)
    for action in ("review", "publish"):
        assert (await officer.post(f"/api/polls/{poll_id}/actions/{action}")).status_code == 200


async def test_nothing_is_public_before_publication_but_staff_preview_it(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    budget = voting.q["budget"]["id"]
    urls = [
        f"/polls/{poll_id}/official",
        f"/polls/{poll_id}/official.csv",
        f"/polls/{poll_id}/official.json",
        f"/polls/{poll_id}/questions/{budget}/ballots.pb",
    ]
    preview = await officer.get(urls[0])
    assert preview.status_code == 200
    assert "Not published yet" in preview.text
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as public:
        for url in urls:
            response = await public.get(url)
            assert response.status_code == 404, url
            assert "Winner" not in response.text
        pilot_page = (await public.get(f"/pilots/{voting.pilot['id']}")).text
        assert f"/polls/{poll_id}/official" not in pilot_page
        # The ballot file would show the count (and any recount by another method) early too.
        early = await public.get(f"/polls/{poll_id}/ballots.jsonl")
        assert early.status_code == 403 and "published with the official results" in early.text
        assert (await officer.get(f"/polls/{poll_id}/ballots.jsonl")).status_code == 200
        await publish(officer, poll_id)
        for url in [*urls, f"/polls/{poll_id}/ballots.jsonl"]:
            assert (await public.get(url)).status_code == 200, url


async def test_review_page_saves_responses_and_refuses_bad_ones_next_to_the_field(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    page = await officer.get(f"/council/polls/{poll_id}/results")
    assert page.status_code == 200
    assert "Start review" in page.text
    assert 'name="method-' in page.text  # closed polls can already be recounted by another method
    single, scale = voting.q["single"]["id"], voting.q["scale"]["id"]
    form = {
        "csrf_token": csrf_from(page.text),
        f"response-{single}": "Fine",
        f"response-{scale}": "y" * 5001,
        "response-²": "not a question id",  # ignored, not a server error
    }
    refused = await officer.post(f"/council/polls/{poll_id}/results/responses", data=form)
    assert refused.status_code == 422
    assert f'id="response-{scale}-error"' in refused.text
    assert "Enter at most 5000 characters" in refused.text
    stored = (
        await db.execute(select(QuestionResult.response).where(QuestionResult.question_id == single))
    ).scalar_one()
    await db.rollback()
    assert stored == ""  # nothing saved when any field is wrong

    form[f"response-{scale}"] = "We will light the high street."
    saved = await officer.post(f"/council/polls/{poll_id}/results/responses", data=form)
    assert saved.status_code == 303
    ranked = voting.q["ranked"]["id"]
    bad = await officer.post(
        f"/council/polls/{poll_id}/results/questions/{ranked}/method",
        data={"csrf_token": form["csrf_token"], f"method-{ranked}": "greedy"},
    )
    assert bad.status_code == 422
    assert f'id="method-{ranked}-error"' in bad.text
    good = await officer.post(
        f"/council/polls/{poll_id}/results/questions/{ranked}/method",
        data={"csrf_token": form["csrf_token"], f"method-{ranked}": "condorcet"},
    )
    assert good.status_code == 303
    await publish(officer, poll_id)
    after = await officer.get(f"/council/polls/{poll_id}/results")
    assert "Save responses" not in after.text and "Add update" in after.text
    assert f'data-pairwise="{ranked}"' in after.text  # Condorcet shows every head-to-head contest
    added = await officer.post(
        f"/council/polls/{poll_id}/follow-ups",
        data={
            "csrf_token": form["csrf_token"],
            "title": "Lights",
            "body": "Ordered.",
            "milestone_on": "soon",
        },
    )
    assert added.status_code == 422
    assert 'id="milestone_on-error"' in added.text


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


async def test_published_page_shows_accessible_charts_tables_rounds_and_the_story(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    single = voting.q["single"]["id"]
    await officer.put(
        f"/api/polls/{poll_id}/official/questions/{single}/response", json={"response": "We heard you."}
    )
    await publish(officer, poll_id)
    added = await officer.post(
        f"/api/polls/{poll_id}/follow-ups",
        json={
            "title": "Park plan agreed",
            "body": "Cabinet agreed it.",
            "milestone_on": "2027-06-01",
            "status": "done",
        },
    )
    assert added.status_code == 201

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as public:
        page = (await public.get(f"/polls/{poll_id}/official")).text
        pilot_page = (await public.get(f"/pilots/{voting.pilot['id']}")).text
        download = (await public.get(f"/polls/{poll_id}/official.json")).json()
    assert download["follow_ups"][0]["title"] == "Park plan agreed"
    assert "created_by" not in download["follow_ups"][0]  # which officer typed it is not public
    assert "@" not in json.dumps(download) and "@" not in page.replace("democracy@northshire.example", "")
    assert "<script" not in page.split("</head>")[1]  # the page needs no script of its own
    svgs = _svgs(page)
    assert len(svgs) == 5  # every counted question; the comment question has no chart
    for svg in svgs:
        assert 'role="img"' in svg
        labelled = re.search(r'aria-labelledby="([^"]+) ([^"]+)"', svg)
        assert labelled, svg[:200]
        assert f'<title id="{labelled.group(1)}">' in svg and f'<desc id="{labelled.group(2)}">' in svg
    ranked_svg = next(s for s in svgs if "Rank the projects" in s)
    assert "winner" in ranked_svg  # said in words, not only by colour
    assert page.count('class="govuk-table"') >= 5 + 2  # a table per chart, and turnout
    assert 'data-rounds="' in page and "Round 1" in page
    assert "Exhausted" in page
    assert "We heard you." in page and "Park plan agreed" in page and "Done" in page
    assert "Poll card: one vote per code" in page
    for href in ("official.csv", "official.json", "ballots.jsonl", "ballots.pb", "/trackers"):
        assert href in page
    assert "We heard you." in pilot_page and "Park plan agreed" in pilot_page
    assert f"/polls/{poll_id}/official" in pilot_page
    assert "democracy@northshire.example" in pilot_page


async def test_downloads_parse_and_agree_with_the_stored_results(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    budget = voting.q["budget"]["id"]
    assert (
        await officer.put(
            f"/api/polls/{poll_id}/official/questions/{budget}/method", json={"method": "equal_shares"}
        )
    ).status_code == 200
    review = (await officer.get(f"/council/polls/{poll_id}/results")).text
    assert (
        "Variant: cost utilities (a project is worth its cost to each supporter); completion: add1" in review
    )
    assert "A greedy count by votes would" in review  # the same projects, or what differs and why
    await publish(officer, poll_id)
    data: dict[str, Any] = (await client.get(f"/polls/{poll_id}/official.json")).json()
    stored = {q["id"]: q for q in data["questions"]}
    assert data["ballots"] == 10 and stored[budget]["method"] == "equal_shares"

    rows = list(csv.DictReader(io.StringIO((await client.get(f"/polls/{poll_id}/official.csv")).text)))
    single = voting.q["single"]["id"]
    votes = {r["option"]: int(r["value"].split()[0]) for r in rows if r["question_id"] == str(single)}
    labels = {o["id"]: o["label"] for o in voting.q["single"]["options"]}
    assert votes == {labels[int(k)]: v for k, v in stored[single]["result"]["votes"].items()}

    ballots = await client.get(f"/polls/{poll_id}/ballots.jsonl")
    assert hashlib.sha256(ballots.content).hexdigest() == data["ballot_file"]["sha256"]
    pb = await client.get(f"/polls/{poll_id}/questions/{budget}/ballots.pb")
    assert pb.status_code == 200
    read_back = read_pabulib(pb.text)
    [from_pb] = read_back.questions
    [from_file] = [q for q in read_published(ballots.text).questions if q.question.id == budget]
    assert from_pb.method == "equal_shares"
    assert (stored[budget]["result"]["utility"], stored[budget]["result"]["completion"]) == ("cost", "add1")
    assert dict(from_pb.ballots) == dict(from_file.ballots)
    assert [(o.id, o.cost) for o in from_pb.question.options] == [
        (o.id, o.cost) for o in from_file.question.options
    ]
    recounted = as_json(official.count(from_pb.question, from_pb.ballots, from_pb.method))
    assert recounted["funded"] == stored[budget]["result"]["funded"]
    not_budget = await client.get(f"/polls/{poll_id}/questions/{single}/ballots.pb")
    assert not_budget.status_code == 404


async def test_a_real_server_serves_the_story_from_front_page_to_recount(
    live_server: str, client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    await publish(officer, poll_id)
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as browser:
        front = await browser.get("/")
        pilot_url = f"/pilots/{voting.pilot['id']}"
        assert pilot_url in front.text
        pilot = await browser.get(pilot_url)
        assert f"/polls/{poll_id}/official" in pilot.text
        page = await browser.get(f"/polls/{poll_id}/official")
        assert page.status_code == 200 and 'role="img"' in page.text
        sha = re.search(r'id="ballot-sha256">([0-9a-f]{64})<', page.text)
        ballots = await browser.get(f"/polls/{poll_id}/ballots.jsonl")
        assert sha and hashlib.sha256(ballots.content).hexdigest() == sha.group(1)
        paths = (await browser.get("/api/openapi.json")).json()["paths"]
        assert "/api/polls/{poll_id}/official/questions/{question_id}/method" in paths
        assert "post" in paths["/api/polls/{poll_id}/follow-ups"]


async def test_officers_write_the_pilots_accessibility_statement_for_its_public_page(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot = (await officer.post("/api/pilots", json=pilot_body())).json()
    assert pilot["accessibility_statement"] == ""
    too_long = await officer.put(
        f"/api/pilots/{pilot['id']}", json=pilot_body(accessibility_statement="x" * 5001)
    )
    assert too_long.status_code == 422
    assert [e["field"] for e in too_long.json()["errors"]] == ["accessibility_statement"]

    form_page = await officer.get(f"/council/pilots/{pilot['id']}/edit")
    assert 'id="accessibility_statement"' in form_page.text
    statement = "This service works without JavaScript.\nAsk us for large print."
    saved = await officer.put(
        f"/api/pilots/{pilot['id']}", json=pilot_body(accessibility_statement=statement)
    )
    assert saved.status_code == 200 and saved.json()["accessibility_statement"] == statement
    entry = (
        await db.execute(select(AuditEntry.after).where(AuditEntry.action == "pilot.update"))
    ).scalar_one()
    assert entry["accessibility_statement"] == statement
    page = (await client.get(f"/pilots/{pilot['id']}")).text
    assert '<p class="govuk-body">This service works without JavaScript.</p>' in page
    assert "Ask us for large print." in page


async def test_starting_the_review_leads_the_officer_to_the_results_to_review(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    page = await officer.get(f"/council/polls/{poll_id}")
    started = await officer.post(
        f"/council/polls/{poll_id}/actions/review", data={"csrf_token": csrf_from(page.text)}
    )
    assert started.status_code == 303
    assert started.headers["location"] == f"/council/polls/{poll_id}/results"
    closed_again = await officer.post(
        f"/council/polls/{poll_id}/actions/close", data={"csrf_token": csrf_from(page.text), "confirm": "yes"}
    )
    assert closed_again.status_code == 409  # other moves still answer on the poll page's terms
