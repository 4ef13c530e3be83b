"""Residents vote: one person one vote, secret ballots, durable acknowledgement, live tallies."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.codes import format_short_code
from polls.settings import Settings
from polls.store.codes import revoke_code
from polls.store.db import open_engine, sessions_for
from polls.store.models import Ballot, Nullifier
from polls.tokens import VOTER_CODE, Tokens
from tests.conftest import count
from tests.factories import OFFICER_PRIVATE_KEY, make_poll
from tests.voting_setup import TRACKER, Setup, officer_closes, settled_tallies, token, vote


async def test_a_resident_votes_once_and_gets_a_tracker_they_can_find(
    client: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = voting.poll["id"]
    link_token = token(voting.codes["north"][0])
    response = await vote(client, poll_id, link_token, voting.full_ballot())
    assert response.status_code == 201, response.text
    tracker = response.json()["tracker"]
    assert re.fullmatch(TRACKER, tracker)  # five groups of four: 100 bits a person can read out
    await settled_tallies(client._transport.app.state.runtime, poll_id)  # type: ignore[attr-defined]
    # While the poll is open receipts are listed in steps of k: this one waits for the next.
    listed = (await client.get(f"/api/polls/{poll_id}/trackers", params={"tracker": tracker})).json()
    assert (listed["trackers"], listed["tracker"], listed["updates_every"]) == ([], "waiting", 10)
    again = await vote(client, poll_id, link_token, voting.full_ballot())
    assert again.status_code == 409
    assert again.json()["code"] == "code_already_used"
    await officer_closes(client, poll_id)
    listed = (await client.get(f"/api/polls/{poll_id}/trackers", params={"tracker": tracker})).json()
    assert (listed["trackers"], listed["tracker"]) == ([tracker], "listed")


async def test_short_code_typed_with_spaces_and_lower_case_works(
    client: httpx.AsyncClient, voting: Setup
) -> None:
    typed = format_short_code(voting.codes["north"][1].short_code).lower().replace("-", " ")
    response = await vote(client, voting.poll["id"], typed, voting.full_ballot())
    assert response.status_code == 201, response.text
    # The same person with the link from the same card is refused: one code, one vote.
    again = await vote(client, voting.poll["id"], token(voting.codes["north"][1]), voting.full_ballot())
    assert again.json()["code"] == "code_already_used"


async def test_a_mistyped_short_code_is_caught_before_any_lookup(
    client: httpx.AsyncClient, voting: Setup
) -> None:
    code = voting.codes["north"][2].short_code
    typo = code[:3] + ("X" if code[3] != "X" else "Y") + code[4:]
    response = await vote(client, voting.poll["id"], typo, voting.full_ballot())
    assert response.status_code == 422
    assert response.json()["code"] == "code_typo"
    assert response.json()["errors"][0]["field"] == "code"


@pytest.mark.parametrize(
    ("credential", "status", "code"),
    [
        ("vc_not-a-real-token", 403, "code_invalid"),
        ("", 403, "code_missing"),
        ("0000-0000-0000-00", 403, "code_unknown"),
    ],
)
async def test_bad_credentials_are_refused_with_a_specific_code(
    client: httpx.AsyncClient, voting: Setup, credential: str, status: int, code: str | None
) -> None:
    response = await vote(client, voting.poll["id"], credential, voting.full_ballot())
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code


async def test_forged_token_signed_with_another_key_is_refused(
    client: httpx.AsyncClient, voting: Setup
) -> None:
    forged = Tokens(("another-key-entirely-0123456789",)).sign(
        VOTER_CODE, voting.codes["north"][0].short_code
    )
    response = await vote(client, voting.poll["id"], forged, voting.full_ballot())
    assert (response.status_code, response.json()["code"]) == (403, "code_invalid")


async def test_code_for_an_area_not_in_the_poll_is_refused(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    response = await vote(client, voting.poll["id"], token(voting.codes["east"][0]), voting.full_ballot())
    assert (response.status_code, response.json()["code"]) == (403, "wrong_area")
    assert await count(db, Ballot) == 0


async def test_revoked_code_is_refused(client: httpx.AsyncClient, voting: Setup, settings: Settings) -> None:
    card = voting.codes["north"][3]
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        await revoke_code(
            session, Actor(0, "test", "test", is_site_admin=True), voting.pilot["id"], card.reference
        )
    await engine.dispose()
    response = await vote(client, voting.poll["id"], token(card), voting.full_ballot())
    assert (response.status_code, response.json()["code"]) == (403, "code_revoked")


def _answers(voting: Setup, kind: str, answer: Any) -> dict[str, Any]:
    return {str(voting.q[kind]["id"]): answer}


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda v: _answers(v, "single", 999999), "unknown_option"),
        (lambda v: _answers(v, "single", [v.option("single", 0), v.option("single", 1)]), "too_many_choices"),
        (lambda v: _answers(v, "multiple", [v.option("multiple", i) for i in range(3)]), "too_many_choices"),
        (lambda v: _answers(v, "ranked", [v.option("ranked", 0), v.option("ranked", 0)]), "duplicate_rank"),
        (lambda v: _answers(v, "budget", [v.option("budget", 0), v.option("budget", 1)]), "over_budget"),
        (lambda v: _answers(v, "scale", 9), "out_of_range"),
        (lambda v: _answers(v, "comment", "x" * 51), "comment_too_long"),
        (lambda v: {"424242": 1}, "unknown_question"),
        (lambda v: {}, "empty_ballot"),
        (lambda v: "not an object", "malformed_ballot"),
    ],
)
async def test_invalid_ballots_are_refused_and_the_code_stays_unused(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession, build: Any, code: str
) -> None:
    credential = token(voting.codes["north"][4])
    response = await vote(client, voting.poll["id"], credential, build(voting))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert await count(db, Ballot) == 0
    assert await count(db, Nullifier) == 0
    # The code was not spent by the bad attempt.
    assert (await vote(client, voting.poll["id"], credential, voting.full_ballot())).status_code == 201


async def test_votes_outside_the_open_window_are_refused(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup
) -> None:
    draft = await make_poll(officer, voting.pilot["id"])
    response = await vote(client, draft["id"], token(voting.codes["north"][0]), {})
    assert (response.status_code, response.json()["code"]) == (409, "poll_not_open")
    await officer.post(f"/api/polls/{voting.poll['id']}/actions/close")
    response = await vote(client, voting.poll["id"], token(voting.codes["north"][0]), voting.full_ballot())
    assert (response.status_code, response.json()["code"]) == (409, "poll_not_open")


async def test_non_json_and_oversized_votes_are_refused(client: httpx.AsyncClient, voting: Setup) -> None:
    url = f"/api/polls/{voting.poll['id']}/votes"
    response = await client.post(
        url, content=b"code=1", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.json()["code"] == "unsupported_media_type"
    response = await client.post(url, content=b"{", headers={"content-type": "application/json"})
    assert response.json()["code"] == "invalid_json"
    big = {"code": "x", "answers": {"1": "y" * 70_000}}
    response = await client.post(url, json=big)
    assert response.json()["code"] == "body_too_large"


async def test_two_hundred_concurrent_uses_of_one_code_count_once(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    credential = token(voting.codes["north"][0])
    responses = await asyncio.gather(
        *(vote(client, voting.poll["id"], credential, voting.full_ballot()) for _ in range(200))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1
    assert statuses.count(409) == 199
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"code_already_used"}
    assert await count(db, Ballot) == 1


async def test_live_tallies_equal_the_database_after_voting(
    client: httpx.AsyncClient, voting: Setup, officer: httpx.AsyncClient
) -> None:
    for issued in voting.codes["north"][:4]:
        assert (await vote(client, voting.poll["id"], token(issued), voting.full_ballot())).status_code == 201
    app = client._transport.app  # type: ignore[attr-defined]
    await settled_tallies(app.state.runtime, voting.poll["id"])
    results = (await client.get(f"/api/polls/{voting.poll['id']}/results")).json()
    assert (results["ballots"], results["updates_every"]) == (0, 10)  # fewer than k: none shown yet
    await officer_closes(officer, voting.poll["id"])
    results = (await client.get(f"/api/polls/{voting.poll['id']}/results")).json()
    assert results["ballots"] == 4 and results["updates_every"] is None
    single = next(q for q in results["questions"] if q["kind"] == "single")
    assert [o["count"] for o in single["options"]] == [0, 4]
    north = next(t for t in results["turnout"] if t["area"] == "North")
    assert north["ballots"] == 4
    check = await app.state.runtime.tallies.check(voting.poll["id"])
    assert check.agrees, check.differences
    assert check.ballots == 4


async def test_nothing_stored_links_a_code_to_a_ballot(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession, redis: Redis
) -> None:
    issued = voting.codes["north"][0]
    credential = token(issued)
    await vote(client, voting.poll["id"], credential, voting.full_ballot())
    secrets_of_voter = [issued.reference, issued.short_code, credential]
    # Every table except the code register itself: no column anywhere holds the voter's reference or code.
    tables = [t for t in (await db.run_sync(lambda s: s.get_bind().dialect.get_table_names(s.connection())))]
    for table in tables:
        rows = (await db.execute(text(f'SELECT * FROM "{table}"'))).all()
        dump = repr(rows)
        if table == "voter_codes":
            assert "More trees" not in dump  # the register holds no ballot content
            continue
        for secret in secrets_of_voter:
            assert secret not in dump, f"{table} holds the voter's code"
    ballot = (await db.execute(select(Ballot))).scalar_one()
    assert set(ballot.__table__.columns.keys()) == {
        "poll_id",
        "area_id",
        "channel",
        "answers",
        "tracker",
    }
    await db.rollback()
    # Redis: no key or value mentions the voter, and the only per-voter key is a nullifier.
    for key in await redis.keys("*"):
        for secret in secrets_of_voter:
            assert secret not in key
        if await redis.type(key) == "string":
            value = await redis.get(key)
            assert all(secret not in (value or "") for secret in secrets_of_voter)


async def test_an_expired_voting_link_is_refused(
    client: httpx.AsyncClient, voting: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from itsdangerous.timed import TimestampSigner

    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 401 * 24 * 3600)
        old_link = token(voting.codes["north"][0])
    response = await vote(client, voting.poll["id"], old_link, voting.full_ballot())
    assert (response.status_code, response.json()["code"]) == (403, "code_expired")


async def test_officers_see_turnout_on_the_poll_page(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup
) -> None:
    await vote(client, voting.poll["id"], token(voting.codes["north"][0]), voting.full_ballot())
    await settled_tallies(client._transport.app.state.runtime, voting.poll["id"])  # type: ignore[attr-defined]
    page = await officer.get(f"/council/polls/{voting.poll['id']}")
    # While the poll is open staff see the public's steps too.
    assert 'id="turnout-ballots">0<' in page.text and 'id="turnout-stepped"' in page.text
    assert "In steps of at least 10 votes" in page.text
    await officer_closes(officer, voting.poll["id"])
    page = await officer.get(f"/council/polls/{voting.poll['id']}")
    assert 'id="turnout-ballots">1<' in page.text
    assert "North: 1" in page.text and "1 online" in page.text


async def test_a_replacement_card_cannot_vote_where_the_lost_card_voted(
    client: httpx.AsyncClient, voting: Setup, settings: Settings
) -> None:
    from polls.store.codes import reissue_code

    lost = voting.codes["north"][0]
    assert (await vote(client, voting.poll["id"], token(lost), voting.full_ballot())).status_code == 201
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        _, replacement = await reissue_code(
            session,
            Actor(0, "test", "test", is_site_admin=True),
            voting.pilot["id"],
            lost.reference,
            OFFICER_PRIVATE_KEY,
        )
    await engine.dispose()
    again = await vote(client, voting.poll["id"], token(replacement), voting.full_ballot())
    assert (again.status_code, again.json()["code"]) == (409, "code_already_used")


async def test_a_vote_whose_request_goes_away_does_not_stop_the_writer(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    booth = client._transport.app.state.runtime.booth  # type: ignore[attr-defined]
    gone = asyncio.create_task(
        booth.cast(
            voting.poll["id"], booth.credential(voting.codes["north"][0].short_code), voting.full_ballot()
        )
    )
    await asyncio.sleep(0)
    gone.cancel()
    response = await asyncio.wait_for(
        vote(client, voting.poll["id"], token(voting.codes["north"][1]), voting.full_ballot()), 10
    )
    assert response.status_code == 201
    # Either the cancelled vote was already on its way and counted (its code is spent), or it never
    # reached the writer (its code is free): never counted-but-free or spent-but-uncounted.
    counted = await count(db, Ballot) == 2
    again = await vote(client, voting.poll["id"], token(voting.codes["north"][0]), voting.full_ballot())
    assert again.status_code == (409 if counted else 201)


@pytest.mark.parametrize("answer", ["--1", "²", "9" * 5000, 10**30, True])
async def test_strange_numbers_are_a_clear_refusal_not_a_server_error(
    client: httpx.AsyncClient, voting: Setup, answer: Any
) -> None:
    response = await vote(
        client,
        voting.poll["id"],
        token(voting.codes["north"][0]),
        {str(voting.q["scale"]["id"]): answer},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "malformed_answer"


async def test_absurd_ids_in_addresses_are_not_found(client: httpx.AsyncClient, voting: Setup) -> None:
    huge = "9" * 25
    assert (await client.get(f"/polls/{huge}/results")).status_code == 404
    response = await client.post(f"/api/polls/{huge}/votes", json={"code": "x", "answers": {}})
    assert response.status_code == 404


async def test_a_cancelled_card_is_refused_before_the_ballot_is_filled_in(
    client: httpx.AsyncClient, voting: Setup, settings: Settings
) -> None:
    card = voting.codes["north"][2]
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        await revoke_code(
            session, Actor(0, "test", "test", is_site_admin=True), voting.pilot["id"], card.reference
        )
    await engine.dispose()
    page = await client.get(f"/v/{token(card)}/polls/{voting.poll['id']}")
    assert page.status_code == 403
    assert "cancelled" in page.text
