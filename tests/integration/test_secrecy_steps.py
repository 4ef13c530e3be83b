"""The poll's step (secrecy_k): set by officers, decided once in Redis, kept through a rebuild."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballots import PollDef
from polls.live.embedded import EmbeddedRedis
from polls.live.tallies import CHANGED, PRESENT, Tallies, poll_keys
from polls.settings import Settings
from polls.store.models import Poll
from tests.conftest import count
from tests.factories import make_pilot, make_poll
from tests.integration.test_pages import browser, create_pilot, submit  # noqa: F401 (fixture)
from tests.voting_setup import issue, officer_closes, settled_tallies, token, vote


async def test_officers_set_the_step_through_the_api_and_below_five_is_refused(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot = await make_pilot(officer)
    refused = await officer.post(f"/api/pilots/{pilot['id']}/polls", json={"title": "Bins", "secrecy_k": 4})
    assert (refused.status_code, refused.json()["code"]) == (422, "secrecy_k_invalid")
    assert await count(db, Poll) == 0
    poll = await make_poll(officer, pilot["id"], secrecy_k=7)
    assert poll["secrecy_k"] == 7
    for bad in (2.5, "seven", None):
        changed = await officer.put(f"/api/polls/{poll['id']}", json={"title": "Bins", "secrecy_k": bad})
        assert (changed.status_code, changed.json()["code"]) == (422, "secrecy_k_invalid")
    assert (await officer.get(f"/api/polls/{poll['id']}")).json()["secrecy_k"] == 7
    changed = await officer.put(f"/api/polls/{poll['id']}", json={"title": "Bins", "secrecy_k": 12})
    assert changed.json()["secrecy_k"] == 12


async def test_the_poll_form_explains_a_refused_step_next_to_the_field(
    browser: httpx.AsyncClient,  # noqa: F811
    db: AsyncSession,
) -> None:
    pilot_id = await create_pilot(browser)
    url = f"/council/pilots/{pilot_id}/polls/new"
    page = await submit(browser, url, {"title": "Transport", "secrecy_k": "3"})
    assert page.status_code == 422
    assert 'id="secrecy_k-error"' in page.text and "from 5 to 1000" in page.text
    assert await count(db, Poll) == 0
    created = await submit(browser, url, {"title": "Transport", "secrecy_k": "8"})
    assert created.status_code == 303
    shown = await browser.get(created.headers["location"])
    assert "In steps of at least 8 votes" in shown.text


async def test_after_redis_loses_everything_the_rebuild_shows_no_step_below_k(
    officer: httpx.AsyncClient, settings: Settings, redis: Redis
) -> None:
    pilot = await make_pilot(officer)
    area = (
        await officer.post(f"/api/pilots/{pilot['id']}/areas", json={"name": "North", "code": "N1"})
    ).json()
    poll = await make_poll(officer, pilot["id"], results_visibility="live", secrecy_k=5)
    await officer.post(f"/api/polls/{poll['id']}/actions/open")
    option = poll["questions"][0]["options"][0]["id"]
    for issued in await issue(settings, pilot["id"], area["id"], 13):
        answers = {str(poll["questions"][0]["id"]): option}
        assert (await vote(officer, poll["id"], token(issued), answers)).status_code == 201
    tallies: Tallies = officer._transport.app.state.runtime.tallies  # type: ignore[attr-defined]
    await settled_tallies(officer._transport.app.state.runtime, poll["id"])  # type: ignore[attr-defined]
    before = await tallies.published_receipts(poll["id"])
    assert len(before) == 10
    await tallies.rebuild(poll["id"])  # a repair: what was published stays published
    assert await tallies.published_receipts(poll["id"]) == before
    await redis.flushdb()
    await tallies.rebuild_all()
    after = await tallies.published_receipts(poll["id"])
    assert len(after) == 10 and (await tallies.read_published(poll["id"]))["ballots"] == 10
    assert await redis.zcard(poll_keys(poll["id"])[2]) == 3  # a random three wait for the next step
    assert (await tallies.check(poll["id"])).agrees  # the exact counters are whole
    await officer_closes(officer, poll["id"])
    assert (await tallies.read_published(poll["id"]))["ballots"] == 13
    assert len(await tallies.published_receipts(poll["id"])) == 13


@dataclass
class _Vote:
    poll: PollDef
    tracker: str
    answers: dict[str, Any] = field(default_factory=dict)
    area_id: int | None = None
    channel: str = "online"


async def test_two_instances_counting_at_once_publish_only_whole_steps(
    redis: Redis, redis_server: EmbeddedRedis
) -> None:
    k, poll = 5, PollDef(id=99, pilot_id=1, area_ids=frozenset(), questions=(), secrecy_k=5)
    await redis.set(PRESENT, "1")
    clients = [
        Redis.from_url(redis_server.url, decode_responses=True) for _ in range(2)
    ]  # two app instances, each with its own connections
    instances = [Tallies(client, None) for client in clients]  # type: ignore[arg-type]
    published: list[int] = []

    async def watch() -> None:
        async with redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANGED)
            async for message in pubsub.listen():
                if message["type"] == "message":
                    published.append(int((await redis.hget(poll_keys(99)[1], "ballots")) or 0))

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.1)

    async def count(instance: Tallies, numbers: range) -> None:
        for n in numbers:
            await instance.apply([_Vote(poll, f"t{n}")])

    await asyncio.gather(count(instances[0], range(0, 103, 2)), count(instances[1], range(1, 103, 2)))
    await asyncio.sleep(0.3)
    watcher.cancel()
    for client in clients:
        await client.aclose()
    exact = int(await redis.hget(poll_keys(99)[0], "ballots") or 0)
    shown = int(await redis.hget(poll_keys(99)[1], "ballots") or 0)
    assert exact == 103 and shown == 100 and await redis.zcard(poll_keys(99)[2]) == 3
    assert await redis.scard(poll_keys(99)[3]) == 100
    assert len(published) == 103 // k  # one announcement per step, whichever instance counted it


async def test_a_redis_dump_keeps_waiting_receipts_in_the_order_of_their_text_not_their_arrival(
    redis: Redis,
) -> None:
    """A storage reader dumping Redis between steps reads its structures in Redis's own order (as
    SCAN walks them): a small plain set (listpack, Redis 7.2+) keeps insertion order, so the
    pending receipts are a sorted set kept in the order of their own text."""
    poll = PollDef(id=98, pilot_id=1, area_ids=frozenset(), questions=(), secrecy_k=50)
    await redis.set(PRESENT, "1")
    tallies = Tallies(redis, None)  # type: ignore[arg-type]
    arrived = sorted(secrets.token_hex(32) for _ in range(9))  # as receipts are: 64 random hex
    arrived = arrived[5:] + arrived[:5][::-1]  # they come in an order other than their text's
    for tracker in arrived:
        assert await tallies.apply([_Vote(poll, tracker)])
    pending = poll_keys(98)[2]
    assert await tallies.waiting(98, arrived[0]) and not await tallies.waiting(98, "f" * 64)
    kept = [member for member, _ in (await redis.zscan(pending, 0, count=1000))[1]]
    assert kept == sorted(arrived)


async def test_a_step_adds_its_receipts_in_the_order_of_their_text(redis: Redis) -> None:
    """The published set is small (a listpack on Redis 7.2+, which keeps insertion order) until 128
    receipts: a step's receipts, those that waited and the batch that completed it, go in sorted.
    (Redis before 7.2 keeps small sets of text in a hash table, in its hash's order anyway.)"""
    poll = PollDef(id=97, pilot_id=1, area_ids=frozenset(), questions=(), secrecy_k=5)
    await redis.set(PRESENT, "1")
    tallies = Tallies(redis, None)  # type: ignore[arg-type]
    first = [secrets.token_hex(32) for _ in range(3)]
    batch = [secrets.token_hex(32) for _ in range(4)]
    for tracker in first:
        assert await tallies.apply([_Vote(poll, tracker)])
    assert await redis.scard(poll_keys(97)[3]) == 0
    assert await tallies.apply([_Vote(poll, t) for t in batch])
    assert await redis.exists(poll_keys(97)[2]) == 0  # nothing waits after a step
    kept = (await redis.sscan(poll_keys(97)[3], 0, count=1000))[1]
    assert sorted(kept) == sorted(first + batch)
    if await redis.object("encoding", poll_keys(97)[3]) == "listpack":
        assert kept == sorted(first + batch)
    assert (await tallies.read_published(97))["ballots"] == 7
