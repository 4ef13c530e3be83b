"""Juror invitations (single use, expiring, reserves called in order) and the officer pages (both DBs)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.juries import choose_replacement
from polls.domain.sortition import (
    Person,
    Pool,
    Quota,
    Quotas,
    commitment,
    fairest_lottery,
    group_pool,
    make_lottery,
    read_lottery,
)
from polls.domain.sortition.randomness import hash_reveal
from polls.store.juries import public_juries
from polls.store.jurors import room_juror
from polls.store.models import AuditEntry, Juror, Jury, PoolMember, utcnow
from polls.tokens import JUROR_INVITE, JUROR_ROOM, Tokens
from tests.conftest import SECRET, count
from tests.factories import csrf_from, make_pilot
from tests.integration.test_jury_selection import (
    CATEGORIES,
    DICE,
    drawn_jury,
    make_jury,
    people_csv,
    publish_body,
    settled,
    upload,
)

BASE = "http://127.0.0.1:8000"


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def invitations(http: httpx.AsyncClient, jury_id: int, only_new: bool = False) -> list[dict[str, str]]:
    response = await http.post(f"/api/juries/{jury_id}/invitations/export", json={"only_new": only_new})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return rows(response.text)


async def inviting_jury(http: httpx.AsyncClient) -> tuple[dict[str, Any], list[dict[str, str]]]:
    jury = await drawn_jury(http, reserves=8)
    assert (await http.post(f"/api/juries/{jury['id']}/invitations")).status_code == 200
    return jury, await invitations(http, jury["id"])


@pytest.fixture
async def person(officer: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Someone opening their invitation on their own phone: no staff session."""
    async with httpx.AsyncClient(transport=officer._transport, base_url="http://testserver") as http:
        yield http


def path(link: str) -> str:
    return link.removeprefix(BASE)


async def answer(http: httpx.AsyncClient, link: str, **form: str) -> httpx.Response:
    page = await http.get(path(link))
    assert page.status_code == 200, page.text
    return await http.post(path(link), data={"csrf_token": csrf_from(page.text), **form})


async def juror_of(db: AsyncSession, person_id: str) -> Juror:
    query = select(Juror).join(PoolMember).where(PoolMember.person_id == person_id)
    juror = (await db.scalars(query)).one()
    db.expunge_all()  # keep what was read; the next read starts a fresh transaction
    await db.rollback()
    return juror


# Sending invitations


async def test_the_mail_merge_lists_the_panel_with_signed_single_use_links(
    officer: httpx.AsyncClient,
) -> None:
    jury, sent = await inviting_jury(officer)
    assert [r["id"] for r in sent] == jury["draw"]["panel"]
    assert {r["role"] for r in sent} == {"panel"} and [r["seat"] for r in sent] == [
        str(n) for n in range(1, 13)
    ]
    token = path(sent[0]["link"]).split("/invitation/")[1]
    assert token.startswith("ji_") and f"/juries/{jury['id']}/invitation/" in sent[0]["link"]
    payload = Tokens((SECRET,)).read(JUROR_INVITE, token)
    assert set(payload) == {"j", "n"}
    assert "+00:00" in sent[0]["expires"]
    # Everyone's link has been handed over: nothing is new until someone declines.
    assert await invitations(officer, jury["id"], only_new=True) == []


async def test_ids_that_look_like_formulas_are_downloaded_as_text(officer: httpx.AsyncClient) -> None:
    """A pool id a spreadsheet would run (=, +, -, @) reaches the officer's and the public's CSVs as text."""
    starts = ["=", "+", "-", "@"]  # a leading tab is trimmed on upload
    lines = people_csv().splitlines()
    lines[1:] = [starts[i % 4] + line for i, line in enumerate(lines[1:])]
    jury = await make_jury(officer)
    assert (await upload(officer, jury["id"], "\n".join(lines))).status_code == 200
    assert (await officer.post(f"/api/juries/{jury['id']}/lottery")).status_code == 202
    assert (await settled(officer, jury["id"]))["status"] == "computed"
    assert (await officer.post(f"/api/juries/{jury['id']}/publish", json=publish_body())).status_code == 200
    drawn = await officer.post(f"/api/juries/{jury['id']}/draw", json={"reserves": 8, "reveals": DICE})
    assert drawn.status_code == 200, drawn.text
    assert (await officer.post(f"/api/juries/{jury['id']}/invitations")).status_code == 200

    panel = drawn.json()["draw"]["panel"]
    assert len({p[0] for p in panel}) > 1 and all(p[0] in starts for p in panel)
    assert [r["id"] for r in await invitations(officer, jury["id"])] == ["'" + p for p in panel]
    public = rows((await officer.get(f"/juries/{jury['id']}/probabilities.csv")).text)
    assert len(public) == 60
    assert sorted(r["id"] for r in public) == sorted(f"'{starts[i % 4]}p{i + 1:03}" for i in range(60))


async def test_invitations_wait_for_the_draw(officer: httpx.AsyncClient) -> None:
    jury = await make_jury(officer)
    response = await officer.post(f"/api/juries/{jury['id']}/invitations")
    assert (response.status_code, response.json()["code"]) == (409, "jury_wrong_status")


# Answering


async def test_accepting_spends_the_invitation_and_gives_a_room_link(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury, sent = await inviting_jury(officer)
    page = await person.get(path(sent[0]["link"]))
    assert "Transport jury" in page.text and "How should the county spend" in page.text
    assert page.headers["cache-control"] == "no-store"
    accepted = await answer(person, sent[0]["link"], choice="accept", display_name="  Sam  ")
    assert accepted.status_code == 200
    assert "Thank you, Sam" in accepted.text and "Keep this link safe" in accepted.text
    juror = await juror_of(db, sent[0]["id"])
    assert (juror.status, juror.display_name, juror.invite_nonce) == ("accepted", "Sam", None)
    room = accepted.text.split('id="room-link" href="')[1].split('"')[0]
    assert room.startswith(f"{BASE}/juries/{jury['id']}/room/jr_")
    payload = Tokens((SECRET,)).read(JUROR_ROOM, room.split("/room/")[1])
    assert payload == {"j": juror.id, "n": juror.room_nonce}
    assert await room_juror(db, jury["id"], payload["j"], payload["n"]) is not None
    assert await room_juror(db, jury["id"] + 1, payload["j"], payload["n"]) is None
    # The invitation works once.
    again = await person.get(path(sent[0]["link"]))
    assert again.status_code == 409 and "already been answered" in again.text
    audited = await count(db, AuditEntry)
    post = await person.post(
        path(sent[0]["link"]), data={"csrf_token": csrf_from(page.text), "choice": "decline"}
    )
    assert post.status_code == 409
    assert (await juror_of(db, sent[0]["id"])).status == "accepted"
    assert await count(db, AuditEntry) == audited


async def test_declining_invites_the_next_reserve_for_the_officer_to_send(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury, sent = await inviting_jury(officer)
    declined = await answer(person, sent[3]["link"], choice="decline")
    assert declined.status_code == 200 and "Someone else will be invited" in declined.text
    leaving = await juror_of(db, sent[3]["id"])
    assert (leaving.status, leaving.invite_nonce) == ("declined", None)
    # The first reserve, in the draw's order, who keeps every quota (else the closest fit).
    lottery = read_lottery((await officer.get(f"/juries/{jury['id']}/lottery.json")).json())
    choice = choose_replacement(lottery, jury["draw"]["panel"], sent[3]["id"], jury["draw"]["reserves"])
    assert choice is not None
    first_reserve = choice.person
    reserve = await juror_of(db, first_reserve)
    assert (reserve.status, reserve.seat, reserve.replaces_id) == ("invited", 4, leaving.id)
    page = (await officer.get(f"/council/juries/{jury['id']}")).text
    assert (
        "1 invitation to send" in page
        and first_reserve in page.split('id="needs-link"')[1].split("</div>")[0]
    )
    new = await invitations(officer, jury["id"], only_new=True)
    assert [(r["id"], r["role"], r["seat"]) for r in new] == [(first_reserve, "reserve", "4")]
    assert "invitation to send" not in (await officer.get(f"/council/juries/{jury['id']}")).text
    # The reserve's own link works like anyone's.
    accepted = await answer(person, new[0]["link"], choice="accept", display_name="Jo")
    assert accepted.status_code == 200
    actions = list((await db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all())
    assert actions[-4:] == ["juror.decline", "juror.replace", "jury.invitations.export", "juror.accept"]


async def test_two_answers_to_one_link_record_one(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, sent = await inviting_jury(officer)
    page = await person.get(path(sent[0]["link"]))
    csrf = csrf_from(page.text)
    responses = await asyncio.gather(
        person.post(
            path(sent[0]["link"]), data={"csrf_token": csrf, "choice": "accept", "display_name": "Ann"}
        ),
        person.post(
            path(sent[0]["link"]), data={"csrf_token": csrf, "choice": "accept", "display_name": "Bea"}
        ),
        person.post(path(sent[0]["link"]), data={"csrf_token": csrf, "choice": "decline"}),
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    juror = await juror_of(db, sent[0]["id"])
    assert juror.status in ("accepted", "declined")
    invited = (
        await db.scalars(select(Juror).where(Juror.status == "invited", Juror.role == "reserve"))
    ).all()
    assert len(invited) == (1 if juror.status == "declined" else 0)


@pytest.mark.parametrize("name", ["", "R2D2", "Sam!", "-Sam", "A" * 31, "Jo  -  Ann"])
async def test_a_display_name_must_be_a_name(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession, name: str
) -> None:
    _, sent = await inviting_jury(officer)
    response = await answer(person, sent[0]["link"], choice="accept", display_name=name)
    assert response.status_code == 422 and 'id="display_name-error"' in response.text
    assert (await juror_of(db, sent[0]["id"])).status == "invited"


async def test_two_jurors_cannot_share_a_display_name(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, sent = await inviting_jury(officer)
    assert (
        await answer(person, sent[0]["link"], choice="accept", display_name="Ann-Marie")
    ).status_code == 200
    response = await answer(person, sent[1]["link"], choice="accept", display_name="ann-marie")
    assert response.status_code == 422 and "already uses that name" in response.text
    assert (
        await answer(person, sent[1]["link"], choice="accept", display_name="Ann-Marie O'Neil")
    ).status_code == 200


async def test_forged_foreign_and_wrong_jury_links_change_nothing(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury, sent = await inviting_jury(officer)
    link = path(sent[0]["link"])
    token = link.split("/invitation/")[1]
    juror = await juror_of(db, sent[0]["id"])
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    room_kind = Tokens((SECRET,)).sign(JUROR_ROOM, {"j": juror.id, "n": juror.invite_nonce})
    other_nonce = Tokens((SECRET,)).sign(JUROR_INVITE, {"j": juror.id, "n": "guessed"})
    other_key = Tokens(("another-secret-key-0123456789abcdef",)).sign(JUROR_INVITE, {"j": juror.id, "n": "x"})
    audited = await count(db, AuditEntry)
    for url, status in [
        (forged, 404),
        (f"/juries/{jury['id']}/invitation/{room_kind}", 404),
        (f"/juries/{jury['id']}/invitation/{other_key}", 404),
        (f"/juries/{jury['id']}/invitation/{other_nonce}", 409),
        (f"/juries/{jury['id'] + 1}/invitation/{token}", 404),
        (f"/juries/{jury['id']}/invitation/not-a-token", 404),
    ]:
        response = await person.get(url)
        assert response.status_code == status, url
        assert "invitation" in response.text.lower() or "answered" in response.text
    assert (await juror_of(db, sent[0]["id"])).status == "invited"
    assert await count(db, AuditEntry) == audited


async def test_expired_invitations_are_refused_then_closed_and_replaced(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury, sent = await inviting_jury(officer)
    juror = await juror_of(db, sent[2]["id"])
    await db.execute(
        update(Juror).where(Juror.id == juror.id).values(invite_expires_at=utcnow() - timedelta(minutes=1))
    )
    await db.commit()
    page = await person.get(path(sent[2]["link"]))
    assert page.status_code == 410 and "expired" in page.text
    assert (await juror_of(db, sent[2]["id"])).status == "invited"
    response = await officer.post(f"/api/juries/{jury['id']}/invitations/expire")
    assert response.status_code == 200
    (reserve,) = response.json()
    assert (reserve["seat"], reserve["status"], reserve["role"]) == (3, "invited", "reserve")
    assert (await juror_of(db, sent[2]["id"])).status == "expired"
    closed = await person.get(path(sent[2]["link"]))
    assert closed.status_code == 410 and "expired" in closed.text


async def test_withdrawing_a_juror_ends_their_room_link_and_calls_a_reserve(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury, sent = await inviting_jury(officer)
    await answer(person, sent[5]["link"], choice="accept", display_name="Kim")
    juror = await juror_of(db, sent[5]["id"])
    nonce = juror.room_nonce
    assert nonce is not None
    response = await officer.post(f"/api/juries/{jury['id']}/jurors/{juror.id}/withdraw")
    assert response.status_code == 200
    assert response.json()["reserve_invited"]["seat"] == 6
    assert await room_juror(db, jury["id"], juror.id, nonce) is None
    again = await officer.post(f"/api/juries/{jury['id']}/jurors/{juror.id}/withdraw")
    assert (again.status_code, again.json()["code"]) == (409, "juror_not_accepted")


async def test_withdrawing_a_juror_on_the_jury_page_asks_first(
    officer: httpx.AsyncClient, person: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury, sent = await inviting_jury(officer)
    await answer(person, sent[5]["link"], choice="accept", display_name="Kim")
    juror = await juror_of(db, sent[5]["id"])
    await db.rollback()
    withdraw = f"/council/juries/{jury['id']}/jurors/{juror.id}/withdraw"
    assert f'href="{withdraw}"' in (await officer.get(f"/council/juries/{jury['id']}")).text
    asked = await officer.get(withdraw)
    assert "Withdraw this juror?" in asked.text and "This cannot be undone" in asked.text
    skipped = await officer.post(withdraw, data={"csrf_token": csrf_from(asked.text)})
    assert skipped.status_code == 303 and skipped.headers["location"] == withdraw
    assert (await juror_of(db, sent[5]["id"])).status == "accepted"
    await db.rollback()
    done = await officer.post(withdraw, data={"csrf_token": csrf_from(asked.text), "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == f"/council/juries/{jury['id']}"
    assert (await juror_of(db, sent[5]["id"])).status == "withdrawn"


# Replacement keeps the quotas


def _tight_lottery() -> tuple[Any, list[str], list[str]]:
    """Six women and six men exactly, from a pool of ten of each."""
    quotas = Quotas((Quota("gender", "female", 6, 6), Quota("gender", "male", 6, 6)))
    people = tuple(Person(f"f{i:02}", ("female",)) for i in range(10)) + tuple(
        Person(f"m{i:02}", ("male",)) for i in range(10)
    )
    groups = group_pool(Pool(people, quotas), households=False)
    lottery = make_lottery(fairest_lottery(groups, 12), households_apart=False, seed_sha256=commitment("s"))
    panel = [f"f{i:02}" for i in range(6)] + [f"m{i:02}" for i in range(6)]
    return lottery, panel, ["m06", "m07", "f06", "m08"]


def test_a_reserve_who_would_break_a_quota_is_passed_over() -> None:
    lottery, panel, reserves = _tight_lottery()
    choice = choose_replacement(lottery, panel, "f02", reserves)
    assert choice is not None and (choice.person, choice.meets_quotas) == ("f06", True)
    assert choose_replacement(lottery, panel, "m01", reserves).person == "m06"  # type: ignore[union-attr]


def test_with_no_fitting_reserve_the_closest_fit_is_called_and_its_problems_named() -> None:
    lottery, panel, _ = _tight_lottery()
    choice = choose_replacement(lottery, panel, "f02", ["m06", "m07"])
    assert choice is not None and (choice.person, choice.meets_quotas) == ("m06", False)
    assert choice.problems == (
        "5 people with gender 'female' (quota 6-6)",
        "7 people with gender 'male' (quota 6-6)",
    )
    assert choose_replacement(lottery, panel, "f02", []) is None


# Officer pages and the public list


async def test_officer_pages_walk_through_the_selection(officer: httpx.AsyncClient, db: AsyncSession) -> None:
    pilot = await make_pilot(officer)
    listing = await officer.get(f"/council/pilots/{pilot['id']}/juries")
    csrf = csrf_from(listing.text)
    bad = await officer.post(
        f"/council/pilots/{pilot['id']}/juries",
        data={
            "csrf_token": csrf,
            "title": "Jury",
            "remit": "What should we do about buses?",
            "kind": "jury",
            "size": "30",
        },
    )
    assert bad.status_code == 422 and "A citizens&#39; jury has 12 to 24 members" in bad.text
    created = await officer.post(
        f"/council/pilots/{pilot['id']}/juries",
        data={
            "csrf_token": csrf,
            "title": "Buses jury",
            "remit": "What should we do about buses?",
            "kind": "jury",
            "size": "12",
            "threshold": "75",
        },
    )
    assert created.status_code == 303
    jury_url = created.headers["location"]
    jury_id = int(jury_url.rsplit("/", 1)[1])
    lines = people_csv().splitlines()
    lines[4] = "p004,Person 4,4 Main Road,male,old"
    files = {"people": ("people.csv", "\n".join(lines)), "categories": ("categories.csv", CATEGORIES)}
    refused = await officer.post(f"{jury_url}/pool", data={"csrf_token": csrf}, files=files)
    assert refused.status_code == 422
    report = refused.text.split('id="upload-report"')[1].split("</table>")[0]
    assert "line 5: age is &#39;old&#39;" in report
    assert await count(db, PoolMember) == 0
    files = {"people": ("people.csv", people_csv()), "categories": ("categories.csv", CATEGORIES)}
    assert (await officer.post(f"{jury_url}/pool", data={"csrf_token": csrf}, files=files)).status_code == 303
    assert (await officer.post(f"{jury_url}/lottery", data={"csrf_token": csrf})).status_code == 303
    await settled(officer, jury_id)
    page = (await officer.get(jury_url)).text
    assert 'id="lottery-facts"' in page and "20.0000%" in page and "Publish the lottery" in page
    unnamed = await officer.post(f"{jury_url}/publish", data={"csrf_token": csrf})
    assert unnamed.status_code == 422 and "govuk-error-message" in unnamed.text
    past = {
        "csrf_token": csrf,
        "randomness_kind": "lottery",
        "lottery_name": "Lotto",
        "lottery_date": "2020-01-04",
    }
    assert "nobody can know its numbers yet" in (await officer.post(f"{jury_url}/publish", data=past)).text
    people = "\n".join(f"Roller {n}, {hash_reveal(text)}" for n, text in enumerate(DICE, 1))
    dice = {"csrf_token": csrf, "randomness_kind": "dice", "dice_people": people}
    assert (await officer.post(f"{jury_url}/publish", data=dice)).status_code == 303
    page = (await officer.get(jury_url)).text
    assert "What Roller 1 reveals" in page and "What Roller 2 reveals" in page
    reveals = {"reveals.0": DICE[0], "reveals.1": DICE[1]}
    bad_draw = await officer.post(
        f"{jury_url}/draw", data={"csrf_token": csrf, "reserves": "lots", **reveals}
    )
    assert bad_draw.status_code == 422
    wrong = {"csrf_token": csrf, "reserves": "4", "reveals.0": DICE[0], "reveals.1": "6 6 6 6 6 6"}
    refused_draw = await officer.post(f"{jury_url}/draw", data=wrong)
    assert refused_draw.status_code == 422
    assert "What Roller 2 revealed does not match the SHA-256 they committed to" in refused_draw.text
    assert await count(db, Juror) == 0
    assert (
        await officer.post(f"{jury_url}/draw", data={"csrf_token": csrf, "reserves": "4", **reveals})
    ).status_code == 303
    assert (await officer.post(f"{jury_url}/invitations", data={"csrf_token": csrf})).status_code == 303
    download = await officer.post(f"{jury_url}/invitations.csv", data={"csrf_token": csrf, "only_new": "yes"})
    assert download.status_code == 200 and len(rows(download.text)) == 12
    page = (await officer.get(jury_url)).text
    assert "Inviting jurors" in page and page.count("Reserve ") >= 4
    assert [j.title for j in await public_juries(db, pilot["id"])] == ["Buses jury"]


async def test_the_page_shows_progress_while_the_lottery_is_computed(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await make_jury(officer)
    await officer.post(
        f"/api/juries/{jury['id']}/pool", json={"people": people_csv(), "categories": CATEGORIES}
    )
    stored = (await db.scalars(select(Jury))).one()
    stored.solve = {
        "state": "running",
        "run": "x",
        "by": "t",
        "started_at": utcnow().isoformat(),
        "updated_at": utcnow().isoformat(),
        "step": "fairest probabilities",
        "fraction": 0.5,
        "panels": 3,
        "lowest": 0.125,
    }
    await db.commit()
    page = (await officer.get(f"/council/juries/{jury['id']}")).text
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "fairest probabilities: 50%" in page and "12.50%" in page
    refused = await officer.post(f"/api/juries/{jury['id']}/lottery")
    assert (refused.status_code, refused.json()["code"]) == (409, "lottery_computing")
    # A solve whose instance stopped writing progress is seen to have stopped.
    stored.solve = dict(stored.solve, updated_at=(utcnow() - timedelta(minutes=5)).isoformat())
    await db.commit()
    page = (await officer.get(f"/council/juries/{jury['id']}")).text
    assert "refresh" not in page and "The computation stopped" in page


async def test_public_juries_lists_only_published_ones(officer: httpx.AsyncClient, db: AsyncSession) -> None:
    jury = await drawn_jury(officer)
    await make_jury(officer, jury["pilot_id"], title="Not yet public")
    listed = await public_juries(db, jury["pilot_id"])
    assert [(j.id, j.status, j.url) for j in listed] == [(jury["id"], "drawn", f"/juries/{jury['id']}")]


async def test_officer_changes_a_jury_on_its_edit_page(officer: httpx.AsyncClient) -> None:
    jury = await drawn_jury(officer)
    url = f"/council/juries/{jury['id']}/edit"
    form = await officer.get(url)
    assert form.status_code == 200 and 'value="Transport jury"' in form.text
    fields = {
        "csrf_token": csrf_from(form.text),
        "title": "Buses jury",
        "remit": jury["remit"],
        "kind": "jury",
        "size": "12",
        "threshold": "80",
    }
    assert (await officer.post(url, data=fields)).status_code == 303
    listing = await officer.get(f"/council/pilots/{jury['pilot_id']}/juries")
    assert "Buses jury" in listing.text and "Panel drawn" in listing.text
    resized = await officer.post(url, data=fields | {"size": "14"})
    assert resized.status_code == 422 and "cannot change the size" in resized.text
    assert (await officer.get(f"/api/juries/{jury['id']}")).json()["size"] == 12
