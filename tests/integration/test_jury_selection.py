"""Officers set up a jury, upload its pool, compute, publish and draw its lottery (API, both databases)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.cli import jury as cli_jury
from polls.domain.sortition import draw, read_lottery
from polls.domain.sortition.randomness import hash_reveal
from polls.store import lotteries as lottery_store
from polls.store.models import AuditEntry, Juror, Jury, PoolMember, StaffRole
from polls.store.staff import create_staff
from tests.conftest import count, sign_in
from tests.factories import make_pilot

CATEGORIES = (
    "category,feature,min,max\n"
    "gender,female,5,7\ngender,male,5,7\n"
    "age,16-29,3,5\nage,30-59,4,6\nage,60+,3,5\n"
)
AGES = ["16-29", "30-59", "60+"]
# Two people's dice rolls and secret words: committed (hashed) at publication, revealed at the draw.
DICE = ["4 2 6 1 3 5 2 2 3 1 kettle-orbit", "1 1 5 6 2 4 3 6 5 2 willow-crane"]


def publish_body() -> dict[str, Any]:
    people = [{"name": f"Roller {n}", "sha256": hash_reveal(text)} for n, text in enumerate(DICE, 1)]
    return {"randomness": {"kind": "dice", "people": people}}


def people_csv(n: int = 60) -> str:
    """A pool with names and addresses, as councils export it; the first ten share households in pairs."""
    lines = ["id,name,address,gender,age"]
    for i in range(1, n + 1):
        address = f"{(i + 1) // 2} Pair Street" if i <= 10 else f"{i} Main Road"
        lines.append(f"p{i:03},Person {i},{address},{'female' if i % 2 else 'male'},{AGES[i % 3]}")
    return "\n".join(lines) + "\n"


def jury_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Transport jury",
        "remit": "How should the county spend its transport budget?",
        "kind": "jury",
        "size": 12,
        "threshold": 75,
    }
    body.update(changes)
    return body


async def make_jury(http: httpx.AsyncClient, pilot_id: int | None = None, **changes: Any) -> dict[str, Any]:
    if pilot_id is None:
        pilot_id = (await make_pilot(http))["id"]
    response = await http.post(f"/api/pilots/{pilot_id}/juries", json=jury_body(**changes))
    assert response.status_code == 201, response.text
    jury: dict[str, Any] = response.json()
    return jury


async def upload(
    http: httpx.AsyncClient, jury_id: int, people: str, categories: str = CATEGORIES, **more: Any
) -> httpx.Response:
    return await http.post(
        f"/api/juries/{jury_id}/pool", json={"people": people, "categories": categories, **more}
    )


async def settled(http: httpx.AsyncClient, jury_id: int) -> dict[str, Any]:
    """The jury once its lottery is no longer being computed."""
    for _ in range(600):
        body: dict[str, Any] = (await http.get(f"/api/juries/{jury_id}")).json()
        if not body["solving"]:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError("the lottery took more than a minute")


async def computed_jury(http: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    jury = await make_jury(http, **changes)
    columns = ["address"] if changes.get("households_apart") else []
    assert (await upload(http, jury["id"], people_csv(), household_columns=columns)).status_code == 200
    started = await http.post(f"/api/juries/{jury['id']}/lottery")
    assert started.status_code == 202, started.text
    body = await settled(http, jury["id"])
    assert body["status"] == "computed", body
    return body


async def drawn_jury(http: httpx.AsyncClient, reserves: int = 8, **changes: Any) -> dict[str, Any]:
    jury = await computed_jury(http, **changes)
    assert (await http.post(f"/api/juries/{jury['id']}/publish", json=publish_body())).status_code == 200
    response = await http.post(f"/api/juries/{jury['id']}/draw", json={"reserves": reserves, "reveals": DICE})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def audit_actions(db: AsyncSession) -> list[str]:
    actions = list((await db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all())
    await db.rollback()
    return actions


@contextlib.asynccontextmanager
async def staff_client(
    client: httpx.AsyncClient, db: AsyncSession, pilot_id: int, role: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A second client signed in as a staff member with ``role`` in the pilot."""
    email = f"{role}@council.example"
    staff = await create_staff(db, email=email, name=role.title(), password=f"{role} pass 12", actor="test")
    db.add(StaffRole(pilot_id=pilot_id, staff_id=staff.id, role=role))
    await db.commit()
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as other:
        await sign_in(other, email, f"{role} pass 12")
        yield other


# Setting up


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"size": 11}, "__root__"),
        ({"size": 25}, "__root__"),
        ({"kind": "assembly", "size": 151}, "__root__"),
        ({"threshold": 50}, "threshold"),
        ({"title": ""}, "title"),
        ({"kind": "panel"}, "kind"),
    ],
)
async def test_bad_jury_settings_are_refused_and_nothing_is_written(
    officer: httpx.AsyncClient, db: AsyncSession, changes: dict[str, Any], field: str
) -> None:
    pilot = await make_pilot(officer)
    audited = await count(db, AuditEntry)
    response = await officer.post(f"/api/pilots/{pilot['id']}/juries", json=jury_body(**changes))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await count(db, Jury) == 0
    assert await count(db, AuditEntry) == audited


async def test_an_assembly_can_have_150_members(officer: httpx.AsyncClient) -> None:
    jury = await make_jury(officer, kind="assembly", size=150)
    assert (jury["kind"], jury["size"], jury["status"]) == ("assembly", 150, "setting_up")


async def test_upload_keeps_ids_features_and_hashed_households_only(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await make_jury(officer, households_apart=True)
    response = await upload(officer, jury["id"], people_csv(), household_columns=["address"])
    assert response.status_code == 200, response.text
    assert response.json()["people"] == 60
    members = list((await db.scalars(select(PoolMember).order_by(PoolMember.position))).all())
    assert [m.person_id for m in members[:2]] == ["p001", "p002"]
    assert members[0].features == {"gender": "female", "age": "30-59"}
    stored = json.dumps([[m.person_id, m.features, m.household] for m in members])
    assert "Person" not in stored and "Street" not in stored and "Road" not in stored
    assert members[0].household == members[1].household != members[2].household
    assert members[20].household != members[21].household


async def test_upload_errors_name_every_bad_line_and_save_nothing(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await make_jury(officer)
    lines = people_csv(20).splitlines()
    lines[3] = "p003,Person 3,3 Main Road,femal,60+"  # line 4
    lines[6] = "p006,Person 6,6 Main Road,male"  # line 7: a field short
    lines[9] = "p001,Person 9,9 Main Road,male,60+"  # line 10: id used twice
    lines[12] = "p" + "x" * 64 + ",Person 12,12 Main Road,male,60+"  # line 13: id too long
    audited = await count(db, AuditEntry)
    response = await upload(officer, jury["id"], "\n".join(lines))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "pool_file_invalid"
    messages = [e["message"] for e in body["errors"]]
    assert messages[0].startswith("line 4: gender is 'femal'")
    assert messages[1].startswith("line 7: 4 fields")
    assert messages[2].startswith("line 10: id 'p001' is used twice")
    assert messages[3] == "line 13: the id is longer than 64 characters"
    assert await count(db, PoolMember) == 0
    assert await count(db, AuditEntry) == audited


async def test_bad_categories_file_names_its_line(officer: httpx.AsyncClient, db: AsyncSession) -> None:
    jury = await make_jury(officer)
    response = await upload(
        officer, jury["id"], people_csv(), "category,feature,min,max\ngender,female,7,5\n"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "categories",
        "message": "line 2: gender 'female': min 7 is more than max 5",
    }
    assert await count(db, PoolMember) == 0


# The lottery


async def test_lottery_is_computed_in_the_background_and_stored(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await computed_jury(officer)
    facts = jury["lottery"]
    assert facts["people"] == 60 and facts["panels"] >= 1
    # Quotas force nobody in or out here, so everyone has 12/60 = 20%.
    assert facts["lowest_probability"] == pytest.approx(0.2, abs=1e-6)
    assert facts["highest_probability"] == pytest.approx(0.2, abs=1e-6)
    stored = (await db.scalars(select(Jury))).one()
    assert stored.seed is not None and stored.seed_sha256 == jury["seed_sha256"]
    lottery = read_lottery(stored.lottery)
    assert lottery.seed_sha256 == jury["seed_sha256"] and lottery.size == 12
    assert set(lottery.probabilities()) == {f"p{i:03}" for i in range(1, 61)}
    # The secret seed is never in the API's answer before the draw.
    assert stored.seed not in json.dumps((await officer.get(f"/api/juries/{jury['id']}")).json())


async def test_infeasible_quotas_give_the_relaxation_report(officer: httpx.AsyncClient) -> None:
    jury = await make_jury(officer)
    quotas = CATEGORIES.replace("gender,female,5,7", "gender,female,9,10")
    assert (await upload(officer, jury["id"], people_csv(), quotas)).status_code == 200
    assert (await officer.post(f"/api/juries/{jury['id']}/lottery")).status_code == 202
    body = await settled(officer, jury["id"])
    assert body["status"] == "setting_up"
    assert body["solve"]["state"] == "failed"
    assert any("add up to 14, more than the panel's 12" in c for c in body["solve"]["conflicts"])
    assert body["solve"]["relaxations"]
    refused = await officer.post(f"/api/juries/{jury['id']}/publish", json=publish_body())
    assert refused.json()["code"] == "jury_wrong_status"


async def test_the_lottery_needs_a_pool(officer: httpx.AsyncClient) -> None:
    jury = await make_jury(officer)
    response = await officer.post(f"/api/juries/{jury['id']}/lottery")
    assert (response.status_code, response.json()["code"]) == (409, "jury_pool_missing")


async def test_published_lottery_lists_every_probability_and_the_commitment(
    officer: httpx.AsyncClient,
) -> None:
    jury = await computed_jury(officer)
    assert (await officer.get(f"/juries/{jury['id']}")).status_code == 404  # not public yet
    assert (await officer.post(f"/api/juries/{jury['id']}/publish", json=publish_body())).status_code == 200
    async with httpx.AsyncClient(transport=officer._transport, base_url="http://testserver") as public:
        page = await public.get(f"/juries/{jury['id']}")
        assert page.status_code == 200
        assert jury["seed_sha256"] in page.text and "p060" in page.text and "20.0000%" in page.text
        # The source of the draw's public randomness is public from now on, with its commitments.
        source = (await public.get(f"/juries/{jury['id']}/randomness.json")).json()
        assert source == publish_body()["randomness"]
        assert "Roller 1" in page.text and hash_reveal(DICE[1]) in page.text
        rows = (await public.get(f"/juries/{jury['id']}/probabilities.csv")).text.splitlines()
        assert rows[0] == "id,probability" and len(rows) == 61 and rows[1] == "p001,0.2000000000"
        lottery = (await public.get(f"/juries/{jury['id']}/lottery.json")).json()
        assert lottery["seed_sha256"] == jury["seed_sha256"]
        assert (await public.get(f"/juries/{jury['id']}/draw.json")).status_code == 404
    # Published: the selection is fixed.
    again = await upload(officer, jury["id"], people_csv())
    assert (again.status_code, again.json()["code"]) == (409, "jury_wrong_status")
    resized = await officer.put(f"/api/juries/{jury['id']}", json=jury_body(size=13))
    assert (resized.status_code, resized.json()["code"]) == (409, "jury_wrong_status")
    renamed = await officer.put(f"/api/juries/{jury['id']}", json=jury_body(title="Buses jury"))
    assert renamed.status_code == 200 and renamed.json()["title"] == "Buses jury"


async def test_draw_reveals_the_seed_and_verifies_with_the_cli(
    officer: httpx.AsyncClient, db: AsyncSession, tmp_path: Path
) -> None:
    jury = await drawn_jury(officer, reserves=8, households_apart=True)
    assert jury["status"] == "drawn"
    record = jury["draw"]
    assert len(record["panel"]) == 12 and len(record["reserves"]) == 8
    lottery_json = (await officer.get(f"/juries/{jury['id']}/lottery.json")).json()
    draw_json = (await officer.get(f"/juries/{jury['id']}/draw.json")).json()
    assert draw_json == record
    page = (await officer.get(f"/juries/{jury['id']}")).text
    assert record["seed"] in page and "Who was drawn" in page
    # The same draw as the domain gives from the published inputs...
    again = draw(read_lottery(lottery_json), record["seed"], reserves=8, public_randomness="\n".join(DICE))
    assert list(again.panel) == record["panel"] and list(again.reserves) == record["reserves"]
    assert record["randomness"]["reveals"] == DICE
    # ... and `polls jury draw --verify` agrees, on the files anyone can download.
    (tmp_path / "lottery.json").write_text(json.dumps(lottery_json))
    (tmp_path / "draw.json").write_text(json.dumps(draw_json))
    (tmp_path / "people.csv").write_text(people_csv())
    (tmp_path / "categories.csv").write_text(CATEGORIES)
    randomness = (await officer.get(f"/juries/{jury['id']}/randomness.json")).json()
    (tmp_path / "randomness.json").write_text(json.dumps(randomness))
    args = ["jury", "draw", "--verify", "--lottery", tmp_path / "lottery.json", "--seed", record["seed"]]
    args += ["--draw", tmp_path / "draw.json", "--people", tmp_path / "people.csv"]
    args += ["--categories", tmp_path / "categories.csv", "--household-columns", "address"]
    args += ["--randomness", tmp_path / "randomness.json"]
    assert cli(*args) == 0
    # A record whose public randomness is not what the committed people revealed does not verify,
    # nor does one checked against another source than the one published.
    forged = dict(draw_json, randomness={**draw_json["randomness"], "reveals": [DICE[0], "6 6 6 6 6 6 x"]})
    (tmp_path / "draw.json").write_text(json.dumps(forged))
    assert cli(*args) == 1
    (tmp_path / "draw.json").write_text(json.dumps(draw_json))
    other = {"kind": "dice", "people": [{"name": "X", "sha256": "0" * 64}, {"name": "Y", "sha256": "1" * 64}]}
    (tmp_path / "randomness.json").write_text(json.dumps(other))
    assert cli(*args) == 1
    (tmp_path / "randomness.json").write_text(json.dumps(randomness))
    record["panel"][0], record["reserves"][0] = record["reserves"][0], record["panel"][0]
    (tmp_path / "draw.json").write_text(json.dumps(record))
    assert cli(*args) == 1
    # Juror rows: the panel by seat, the reserves in order, nobody invited yet.
    jurors = list((await db.scalars(select(Juror).order_by(Juror.role, Juror.position))).all())
    assert [j.pool_member.person_id for j in jurors if j.role == "panel"] == draw_json["panel"]
    assert [j.pool_member.person_id for j in jurors if j.role == "reserve"] == draw_json["reserves"]
    assert {j.status for j in jurors} == {"waiting"}
    # Households kept apart: nobody on the panel shares one.
    houses = {m.person_id: m.household for m in (await db.scalars(select(PoolMember))).all()}
    shared = [houses[p] for p in draw_json["panel"] if houses[p] is not None]
    assert len(shared) == len(set(shared))


def cli(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="polls")
    cli_jury.add_parsers(parser.add_subparsers(dest="command", required=True))
    return cli_jury.run(parser.parse_args([str(a) for a in argv]))


async def test_draw_needs_publication_and_checks_its_input(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await computed_jury(officer)
    early = await officer.post(f"/api/juries/{jury['id']}/draw", json={"reserves": 3, "reveals": DICE})
    assert (early.status_code, early.json()["code"]) == (409, "jury_wrong_status")
    unnamed = await officer.post(f"/api/juries/{jury['id']}/publish", json={})
    assert (unnamed.status_code, unnamed.json()["code"]) == (422, "validation_failed")
    await officer.post(f"/api/juries/{jury['id']}/publish", json=publish_body())
    bad = await officer.post(f"/api/juries/{jury['id']}/draw", json={"reserves": -1, "reveals": DICE})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed")
    wrong = await officer.post(f"/api/juries/{jury['id']}/draw", json={"reserves": 3, "reveals": DICE[::-1]})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "randomness_mismatch")
    assert await count(db, Juror) == 0


# Who may do what


@pytest.mark.parametrize("role", ["moderator", "analyst"])
async def test_moderators_and_analysts_see_but_cannot_change(
    officer: httpx.AsyncClient, client: httpx.AsyncClient, db: AsyncSession, role: str
) -> None:
    jury = await computed_jury(officer)
    async with staff_client(client, db, jury["pilot_id"], role) as other:
        assert (await other.get(f"/api/juries/{jury['id']}")).status_code == 200
        assert (await other.get(f"/council/juries/{jury['id']}")).status_code == 200
        audited = await count(db, AuditEntry)
        for response in [
            await other.post(f"/api/pilots/{jury['pilot_id']}/juries", json=jury_body()),
            await other.put(f"/api/juries/{jury['id']}", json=jury_body(title="Taken over")),
            await upload(other, jury["id"], people_csv()),
            await other.post(f"/api/juries/{jury['id']}/lottery"),
            await other.post(f"/api/juries/{jury['id']}/publish", json=publish_body()),
        ]:
            assert (response.status_code, response.json()["code"]) == (403, "forbidden")
        assert await count(db, AuditEntry) == audited
    assert (await officer.get(f"/api/juries/{jury['id']}")).json()["status"] == "computed"


async def test_staff_of_another_pilot_get_404(
    officer: httpx.AsyncClient, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await make_jury(officer)
    elsewhere = await make_pilot(officer, name="Another pilot")
    async with staff_client(client, db, elsewhere["id"], "moderator") as other:
        response = await other.get(f"/api/juries/{jury['id']}")
        assert (response.status_code, response.json()["code"]) == (404, "jury_not_found")


async def test_every_selection_step_is_audited(officer: httpx.AsyncClient, db: AsyncSession) -> None:
    jury = await drawn_jury(officer)
    actions = [a for a in await audit_actions(db) if a.startswith("jury.")]
    assert actions == [
        "jury.create",
        "jury.pool.upload",
        "jury.lottery.start",
        "jury.lottery.computed",
        "jury.lottery.publish",
        "jury.draw",
    ]
    entry = (await db.scalars(select(AuditEntry).where(AuditEntry.action == "jury.draw"))).one()
    assert entry.target == f"jury:{jury['id']}" and entry.after["seed"] == jury["draw"]["seed"]


async def test_openapi_lists_the_jury_operations(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert set(paths["/api/pilots/{pilot_id}/juries"]) == {"get", "post"}
    assert set(paths["/api/juries/{jury_id}"]) == {"get", "put"}
    for step in ("pool", "lottery", "publish", "draw", "invitations", "invitations/export"):
        assert "post" in paths[f"/api/juries/{{jury_id}}/{step}"], step


async def test_progress_is_written_while_a_long_solve_runs(
    officer: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lottery_store, "HEARTBEAT", 0.02)
    jury = await make_jury(officer, kind="assembly", size=60)
    categories = "category,feature,min,max\n" + "".join(
        f"c{c},{v},{lo},{hi}\n"
        for c in range(5)
        for v, lo, hi in (("a", 20, 40), ("b", 15, 35), ("c", 5, 25))
    )
    rng = random.Random(7)
    people = "id," + ",".join(f"c{c}" for c in range(5)) + "\n"
    people += "".join(f"x{i},{','.join(rng.choice('aabbc') for _ in range(5))}\n" for i in range(600))
    assert (await upload(officer, jury["id"], people, categories)).status_code == 200
    assert (await officer.post(f"/api/juries/{jury['id']}/lottery")).status_code == 202
    steps = set()
    while (body := (await officer.get(f"/api/juries/{jury['id']}")).json())["solving"]:
        steps.add(body["solve"]["step"])
        await asyncio.sleep(0.01)
    assert body["status"] == "computed", body
    assert steps - {"starting"}, steps  # the solver's own steps reached the database


async def test_keeping_households_apart_later_asks_for_the_pool_again(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await computed_jury(officer)
    changed = await officer.put(f"/api/juries/{jury['id']}", json=jury_body(households_apart=True))
    assert changed.status_code == 200
    assert (changed.json()["status"], changed.json()["lottery"]) == ("setting_up", None)
    assert await count(db, PoolMember) == 0
    refused = await officer.post(f"/api/juries/{jury['id']}/lottery")
    assert refused.json()["code"] == "jury_pool_missing"


async def test_an_overlong_id_alone_is_reported_with_its_line(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await make_jury(officer)
    lines = people_csv().splitlines()
    lines[2] = "y" * 65 + ",Person 2,2 Main Road,male,60+"
    response = await upload(officer, jury["id"], "\n".join(lines))
    assert response.status_code == 422
    assert [e["message"] for e in response.json()["errors"]] == [
        "line 3: the id is longer than 64 characters"
    ]
    assert await count(db, PoolMember) == 0


async def test_a_field_too_long_to_read_is_reported_with_its_line(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await make_jury(officer)
    lines = people_csv(20).splitlines()
    lines[3] = "p004,Person 4,4 Main Road,femal,60+"  # line 4: an ordinary problem, still reported
    lines[6] = 'p007,"Person 7' + "x" * 140_000 + '",7 Main Road,male,60+'  # line 7
    audited = await count(db, AuditEntry)
    response = await upload(officer, jury["id"], "\n".join(lines))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "pool_file_invalid"
    messages = [e["message"] for e in body["errors"]]
    assert messages[0].startswith("line 4: gender is 'femal'")
    assert messages[1].startswith("line 7: a field is longer than 131,072 characters")
    assert len(messages) == 2
    assert await count(db, PoolMember) == 0
    assert await count(db, AuditEntry) == audited

    # A quote left open swallows the rest of the file into one field: the line it opens on is named.
    unclosed = CATEGORIES + 'age,"60+,1,2\n' + "age,x,1,2\n" * 20_000
    response = await upload(officer, jury["id"], people_csv(), unclosed)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "categories"
    assert response.json()["errors"][0]["message"].startswith("line 7: a field is longer than")
    assert await count(db, PoolMember) == 0
