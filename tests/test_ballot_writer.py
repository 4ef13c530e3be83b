"""The group-commit writer's moving parts: hand-overs merged into one SQLite transaction, live
tallies lost while batches are in flight, and the vote answer's own HTTP handling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballots import check_ballot, new_tracker
from polls.domain.eligibility import AlreadyVoted
from polls.live.tallies import PRESENT, tally_key
from polls.store import sqlite_ballots
from polls.store.ballots import BatchOutcome, Vote
from polls.store.models import Ballot
from tests.conftest import count
from tests.voting_setup import Setup, settled_tallies, token, vote


def _runtime(client: httpx.AsyncClient) -> Any:
    return client._transport.app.state.runtime  # type: ignore[attr-defined]


async def test_votes_handed_over_while_the_thread_is_busy_share_one_transaction_and_keep_their_answers(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _runtime(client).booth.writer
    if not isinstance(writer.store, sqlite_ballots.SqliteBallots):
        pytest.skip("the SQLite file's writer thread")
    transactions: list[int] = []
    real = sqlite_ballots._transaction

    def counted(connection: Any, votes: list[Vote], key: bytes) -> BatchOutcome:
        transactions.append(len(votes))
        return real(connection, votes, key)

    monkeypatch.setattr(sqlite_ballots, "_transaction", counted)
    poll = await _runtime(client).booth.open_poll(voting.poll["id"])

    def ballot(issued: int) -> Vote:
        answers = check_ballot(poll.definition, voting.full_ballot())
        made = Vote(
            poll=poll.definition,
            assurance=poll.assurance,
            reference=voting.codes["north"][issued].reference,
            answers=answers,
            channel="online",
        )
        made.tracker = new_tracker(poll.definition.id, answers)
        return made

    first, second = [ballot(0), ballot(1)], [ballot(1), ballot(2)]  # card 1 twice, across hand-overs
    with writer.store._wake:  # the thread cannot begin until both are handed over
        answered_first = writer.store.submit(first, writer.key)
        answered_second = writer.store.submit(second, writer.key)
    accepted, refused = await asyncio.wait_for(answered_first, 10)
    assert (accepted, refused) == (first, [])
    accepted, refused = await asyncio.wait_for(answered_second, 10)
    assert accepted == [second[1]]
    assert [(v, type(problem)) for v, problem in refused] == [(second[0], AlreadyVoted)]
    assert transactions == [4]
    assert await count(db, Ballot) == 3


async def test_live_tallies_lost_while_votes_are_in_flight_end_equal_to_the_database(
    client: httpx.AsyncClient, voting: Setup
) -> None:
    runtime = _runtime(client)
    poll_id = voting.poll["id"]
    first = await vote(client, poll_id, token(voting.codes["north"][0].reference), voting.full_ballot())
    assert first.status_code == 201
    # Redis restarted empty: the tallies and the marker that says they are complete are gone.
    await runtime.redis.delete(PRESENT, tally_key(poll_id))
    others = voting.codes["north"][1:] + voting.codes_for_restart
    responses = await asyncio.gather(
        *(vote(client, poll_id, token(issued.reference), voting.full_ballot()) for issued in others)
    )
    assert [r.status_code for r in responses] == [201] * len(others)
    for _ in range(100):  # rebuilt once no batch is in flight, without waiting for another vote
        check = await runtime.tallies.check(poll_id)
        if check.agrees and await runtime.redis.exists(PRESENT):
            break
        await asyncio.sleep(0.05)
    assert check.agrees, check.differences
    assert check.ballots == 1 + len(others)


async def test_a_vote_answer_is_json_never_cached_and_a_chunked_body_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = voting.poll["id"]
    response = await vote(client, poll_id, token(voting.codes["north"][0].reference), voting.full_ballot())
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"  # a receipt is the resident's own
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert set(response.json()) == {"poll_id", "tracker", "trackers_url"}

    async def endless() -> AsyncIterator[bytes]:
        yield b'{"code": "x", "answers": {"1": "'
        for _ in range(100):
            yield b"y" * 1024

    response = await client.post(
        f"/api/polls/{poll_id}/votes", content=endless(), headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (413, "body_too_large")
    assert (await settled_tallies(_runtime(client), poll_id)).ballots == 1
