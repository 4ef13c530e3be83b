"""The group-commit writer's moving parts: hand-overs merged into one SQLite transaction, live
tallies lost while batches are in flight, and the vote answer's own HTTP handling."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballots import check_ballot, new_tracker
from polls.errors import AlreadyVoted
from polls.live.tallies import PRESENT, tally_key
from polls.settings import Settings
from polls.store.db import sqlite_file
from polls.store.models import Ballot
from polls.voting import sqlite_handover
from polls.voting.votes import Vote
from tests.conftest import count
from tests.voting_setup import Setup, settled_tallies, token, vote


def _runtime(client: httpx.AsyncClient) -> Any:
    return client._transport.app.state.runtime  # type: ignore[attr-defined]


async def test_votes_handed_over_while_the_writer_process_waits_share_one_transaction_and_keep_their_answers(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession, settings: Settings
) -> None:
    writer = _runtime(client).booth.writer
    if not isinstance(writer.store, sqlite_handover.SqliteBallots):
        pytest.skip("the SQLite file's writer process")
    store = writer.store
    poll = await _runtime(client).booth.open_poll(voting.poll["id"])

    def ballot(issued: int) -> Vote:
        answers = check_ballot(poll.definition, voting.full_ballot())
        card = _runtime(client).booth.credential(voting.codes["north"][issued].short_code)
        made = Vote(
            poll=poll.definition,
            assurance=poll.assurance,
            credential=card.digest,
            unwrap=card.unwrap,
            answers=answers,
            channel="online",
            fast_path_key=b"",
            spent_until=0,
        )
        made.tracker = new_tracker(poll.definition.id, answers)
        return made

    warm_up = [ballot(0)]  # the process is running and has committed once
    assert await asyncio.wait_for(store.submit(warm_up), 30) == (warm_up, [])
    before = store.transactions
    path = sqlite_file(settings.database_url)
    assert path is not None
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the writer process now waits for the write lock
    try:
        first = [ballot(1)]
        answered_first = store.submit(first)
        await asyncio.sleep(0.3)  # the process has taken the first and waits on the lock
        second, third = [ballot(2)], [ballot(2), ballot(3)]  # card 2 twice, across hand-overs
        answered_second, answered_third = store.submit(second), store.submit(third)
        await asyncio.sleep(0.3)  # both are in the pipe
        assert not answered_first.done()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert await asyncio.wait_for(answered_first, 30) == (first, [])
    assert await asyncio.wait_for(answered_second, 30) == (second, [])
    accepted, refused = await asyncio.wait_for(answered_third, 30)
    assert accepted == [third[1]]
    assert [(v, type(problem)) for v, problem in refused] == [(third[0], AlreadyVoted)]
    assert store.transactions - before <= 2  # the second and third shared a transaction
    assert await count(db, Ballot) == 4


async def test_live_tallies_lost_while_votes_are_in_flight_end_equal_to_the_database(
    client: httpx.AsyncClient, voting: Setup
) -> None:
    runtime = _runtime(client)
    poll_id = voting.poll["id"]
    first = await vote(client, poll_id, token(voting.codes["north"][0]), voting.full_ballot())
    assert first.status_code == 201
    # Redis restarted empty: the tallies and the marker that says they are complete are gone.
    await runtime.redis.delete(PRESENT, tally_key(poll_id))
    others = voting.codes["north"][1:] + voting.codes_for_restart
    responses = await asyncio.gather(
        *(vote(client, poll_id, token(issued), voting.full_ballot()) for issued in others)
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
    response = await vote(client, poll_id, token(voting.codes["north"][0]), voting.full_ballot())
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
