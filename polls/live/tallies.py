"""Live tallies in Redis: one hash of counters per poll, updated after each commit.

The database holds the ballots; Redis holds only counts derived from them, so they can be
rebuilt at any time. A marker key says the tallies are complete: after Redis loses its data
the marker is gone, increments stop, and the first instance to notice rebuilds from the
database.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from sqlalchemy import select

from polls.domain.ballots import Answers, PollDef, tally_of
from polls.store.ballots import load_poll, poll_definition
from polls.store.db import Database
from polls.store.models import Ballot

log = logging.getLogger("polls.tallies")

PRESENT = "tallies:present"
REBUILD_LOCK = "tallies:rebuilding"
CHANGED = "tallies:changed"  # pub/sub channel; messages are poll ids

# Increment only while the tallies are known complete (say so when they are not), then tell
# every instance on the channel ARGV[1] that the poll ARGV[2] changed.
_APPLY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
"""


class CommittedVote(Protocol):
    """What a count reads of a committed vote (polls.voting.votes.Vote is one)."""

    @property
    def poll(self) -> PollDef: ...
    @property
    def answers(self) -> Answers: ...
    @property
    def area_id(self) -> int | None: ...
    @property
    def channel(self) -> str: ...


def tally_key(poll_id: int) -> str:
    return f"tally:{poll_id}"


class Tallies:
    def __init__(self, redis: Redis, db: Database) -> None:
        self.redis = redis
        self.db = db
        self._apply = redis.register_script(_APPLY)
        self.stale = False  # counts lost or half-updated: added to no more until rebuilt

    async def apply(self, votes: Iterable[CommittedVote]) -> bool:
        """Add committed votes to the live counts (the ballot writer calls this after each commit,
        in commit order). False when they were not added because the counts must be rebuilt
        first (Redis lost them, or an earlier update failed half-way): the writer rebuilds once
        none of its batches is in flight, so the rebuild counts these votes exactly once."""
        if self.stale:
            return False
        by_poll: dict[int, tuple[PollDef, list[tuple[Answers, int | None, str]]]] = {}
        for vote in votes:
            by_poll.setdefault(vote.poll.id, (vote.poll, []))[1].append(
                (vote.answers, vote.area_id, vote.channel)
            )
        per_poll = {poll_id: tally_of(poll, ballots) for poll_id, (poll, ballots) in by_poll.items()}
        try:
            for poll_id, increments in per_poll.items():
                args: list[str | int] = [CHANGED, poll_id]
                for name, n in increments.items():
                    args += [name, n]
                if not await self._apply(keys=[PRESENT, tally_key(poll_id)], args=args):
                    self.stale = True
        except Exception:
            self.stale = True  # some increments may be missing
            raise
        return not self.stale

    async def read(self, poll_id: int) -> dict[str, int]:
        raw = await self.redis.hgetall(tally_key(poll_id))
        return {str(k): int(v) for k, v in raw.items()}

    async def from_database(self, poll_id: int) -> tuple[PollDef, Counter[str]]:
        async with self.db() as session:
            poll = poll_definition(await load_poll(session, poll_id))
            rows = (
                await session.execute(
                    select(Ballot.answers, Ballot.area_id, Ballot.channel).where(Ballot.poll_id == poll_id)
                )
            ).all()
        ballots: list[tuple[Answers, int | None, str]] = [(a, area, ch) for a, area, ch in rows]
        return poll, tally_of(poll, ballots)

    async def rebuild(self, poll_id: int) -> Counter[str]:
        _, counts = await self.from_database(poll_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(tally_key(poll_id))
            if counts:
                mapping: dict[Any, Any] = dict(counts)
                pipe.hset(tally_key(poll_id), mapping=mapping)
            await pipe.execute()
        await self.redis.publish(CHANGED, poll_id)
        return counts

    async def rebuild_all(self) -> list[int] | None:
        """Rebuild every poll that has ballots, once across instances, then mark tallies present.
        None when another instance is already rebuilding."""
        if not await self.redis.set(REBUILD_LOCK, "1", nx=True, ex=300):
            return None
        try:
            async with self.db() as session:
                poll_ids = list((await session.execute(select(Ballot.poll_id).distinct())).scalars())
            for poll_id in poll_ids:
                await self.rebuild(poll_id)
            await self.redis.set(PRESENT, "1")
            self.stale = False
            log.info("rebuilt live tallies for %d poll(s) from the database", len(poll_ids))
            return poll_ids
        finally:
            await self.redis.delete(REBUILD_LOCK)

    async def ensure_present(self) -> bool:
        """At start-up: rebuild if Redis lost the tallies. True if a rebuild ran."""
        if await self.redis.exists(PRESENT):
            return False
        await self.rebuild_all()
        return True

    async def check(self, poll_id: int) -> TallyCheck:
        _, expected = await self.from_database(poll_id)
        live = await self.read(poll_id)
        names = set(expected) | set(live)
        differences = {
            name: (live.get(name, 0), expected.get(name, 0))
            for name in sorted(names)
            if live.get(name, 0) != expected.get(name, 0)
        }
        return TallyCheck(poll_id, expected.get("ballots", 0), differences)


@dataclass(frozen=True)
class TallyCheck:
    poll_id: int
    ballots: int
    differences: dict[str, tuple[int, int]]  # counter -> (redis, database)

    @property
    def agrees(self) -> bool:
        return not self.differences


RECONCILE_LOCK = "tallies:reconciling"


async def reconcile_forever(tallies: Tallies, interval: float = 60.0) -> None:
    """Every ``interval`` seconds one instance compares each poll's live tally with the database;
    a difference seen twice running (not just votes in flight) is repaired by a rebuild."""
    suspect: dict[int, dict[str, tuple[int, int]]] = {}
    while True:
        await asyncio.sleep(interval)
        try:
            if not await tallies.redis.set(RECONCILE_LOCK, "1", nx=True, ex=max(1, int(interval))):
                continue
            async with tallies.db() as session:
                poll_ids = list((await session.execute(select(Ballot.poll_id).distinct())).scalars())
            for poll_id in poll_ids:
                check = await tallies.check(poll_id)
                if check.agrees:
                    suspect.pop(poll_id, None)
                elif suspect.get(poll_id) == check.differences:
                    log.warning("poll %s: live tally differed from the database twice; rebuilding", poll_id)
                    await tallies.rebuild(poll_id)
                    suspect.pop(poll_id, None)
                else:
                    suspect[poll_id] = check.differences
        except Exception:  # a Redis or database blip: try again next time
            log.exception("tally reconciliation pass failed")
