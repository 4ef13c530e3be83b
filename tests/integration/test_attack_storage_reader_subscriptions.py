"""Adversary: the storage reader after the fact (README, adversary 4), now that residents can leave
an email address on the receipt page. They read the database with its system columns: on
PostgreSQL every row carries the id of the transaction that wrote it (xmin), ballots included.
A resident subscribes just after voting, so if each subscription were written at once its xmin
would fall just after its writer's ballot: the reader pairs each address with the ballot written
just before it. Subscriptions are therefore held back and written k at a time, in one transaction,
shuffled; the reader's pairing is then right for at most one of the k (chance)."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.models import ResultSubscription
from tests.conftest import count
from tests.factories import csrf_from
from tests.voting_setup import Setup, one_step_of_codes, vote


async def subscribe(http: httpx.AsyncClient, poll_id: int, email: str) -> None:
    page = await http.get(f"/polls/{poll_id}/results-subscription")
    answer = await http.post(
        f"/polls/{poll_id}/results-subscription", data={"csrf_token": csrf_from(page.text), "contact": email}
    )
    assert answer.status_code == 200, answer.text


async def vote_then_subscribe(client: httpx.AsyncClient, voting: Setup, db: AsyncSession) -> dict[str, str]:
    """Each of k residents votes, then leaves an address; the tracker each got, by address."""
    poll_id = voting.poll["id"]
    mine = {}
    cards = one_step_of_codes(voting)
    for i, card in enumerate(cards):
        voted = await vote(client, poll_id, card.short_code, voting.full_ballot())
        assert voted.status_code == 201, voted.text
        email = f"voter{i}@example.org"
        mine[email] = voted.json()["tracker"]
        await subscribe(client, poll_id, email)
        if i < len(cards) - 1:
            assert await count(db, ResultSubscription) == 0  # nothing written that could be dated
    assert await count(db, ResultSubscription) == len(cards)
    return mine


def pair_by_transaction(
    ballots: list[tuple[str, int]], subscriptions: list[tuple[str, int]]
) -> dict[str, str]:
    """The reader's pairing: each address with the ballot written last before it."""
    pairs = {}
    for email, written in subscriptions:
        before = [(xid, tracker) for tracker, xid in ballots if xid < written]
        if before:
            pairs[email] = max(before)[1]
    return pairs


async def test_the_storage_reader_cannot_pair_addresses_with_ballots(
    client: httpx.AsyncClient, voting: Setup, db: AsyncSession, settings: Settings
) -> None:
    mine = await vote_then_subscribe(client, voting, db)
    if not settings.database_url.startswith("postgresql"):
        return  # SQLite has no transaction ids on rows; ballots are stored in tracker order
    ballots = (await db.execute(text("SELECT tracker, xmin::text::bigint FROM ballots"))).all()
    subscriptions = (
        await db.execute(text("SELECT recipient, xmin::text::bigint FROM result_subscriptions"))
    ).all()
    await db.rollback()
    guesses = pair_by_transaction([tuple(b) for b in ballots], [tuple(s) for s in subscriptions])
    right = sum(guesses.get(email) == tracker for email, tracker in mine.items())
    assert right <= 1, f"the storage reader paired {right} of {len(mine)} addresses with their ballots"
    assert len({xid for _, xid in subscriptions}) == 1
