"""The PostgreSQL ballot writer's own connection: batches that wait share one transaction and
keep their own answers, and a connection that dies is replaced for the next batch."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballots import check_ballot, new_tracker
from polls.errors import AlreadyVoted
from polls.store.models import Ballot
from polls.voting.pg_ballots import PostgresBallots
from polls.voting.votes import Vote
from tests.conftest import count
from tests.voting_setup import Setup


def _runtime(client: httpx.AsyncClient) -> Any:
    return client._transport.app.state.runtime  # type: ignore[attr-defined]


async def _store_and_ballots(client: httpx.AsyncClient, voting: Setup) -> tuple[PostgresBallots, Any]:
    booth = _runtime(client).booth
    if not isinstance(booth.writer.store, PostgresBallots):
        pytest.skip("the PostgreSQL writer's connection")
    poll = await booth.open_poll(voting.poll["id"])

    def ballot(issued: int) -> Vote:
        answers = check_ballot(poll.definition, voting.full_ballot())
        card = booth.credential(voting.codes["north"][issued].short_code)
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

    return booth.writer.store, ballot


async def test_batches_waiting_for_the_writers_connection_share_one_transaction_and_keep_their_answers(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    store, ballot = await _store_and_ballots(client, voting)
    warm_up = [ballot(0)]
    assert await asyncio.wait_for(store.submit(warm_up), 30) == (warm_up, [])
    before = store.transactions
    # A close under way holds the poll's row: the writer's FOR SHARE waits for it.
    await db.execute(text("SELECT id FROM polls WHERE id = :id FOR UPDATE"), {"id": voting.poll["id"]})
    try:
        first = [ballot(1)]
        answered_first = store.submit(first)
        await asyncio.sleep(0.3)  # its transaction waits on the poll's row
        second, third = [ballot(2)], [ballot(2), ballot(3)]  # card 2 twice, across batches
        answered_second, answered_third = store.submit(second), store.submit(third)
        await asyncio.sleep(0.3)
        assert not answered_first.done()
    finally:
        await db.rollback()
    assert await asyncio.wait_for(answered_first, 30) == (first, [])
    assert await asyncio.wait_for(answered_second, 30) == (second, [])
    accepted, refused = await asyncio.wait_for(answered_third, 30)
    assert accepted == [third[1]]
    assert [(v, type(problem)) for v, problem in refused] == [(third[0], AlreadyVoted)]
    assert store.transactions - before == 2  # the second and third shared one
    assert await count(db, Ballot) == 4


async def test_a_writer_connection_that_died_fails_only_its_batch_and_the_next_batch_gets_a_new_one(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    store, ballot = await _store_and_ballots(client, voting)
    first = [ballot(0)]
    assert await asyncio.wait_for(store.submit(first), 30) == (first, [])
    pid = store._driver.get_server_pid()
    await db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await db.commit()
    lost = [ballot(1)]
    with pytest.raises(Exception):  # noqa: B017  the driver's own error: the writer answers 503
        await asyncio.wait_for(store.submit(lost), 30)
    again = [ballot(1)]
    assert await asyncio.wait_for(store.submit(again), 30) == (again, [])
    assert store._driver.get_server_pid() != pid
    assert await count(db, Ballot) == 2
