"""Live tallies in Redis: exact counters per poll, and the stepped figures the public sees.

The database holds the ballots; Redis holds only counts derived from them, so they can be
rebuilt at any time. A marker key says the tallies are complete: after Redis loses its data
the marker is gone, increments stop, and the first instance to notice rebuilds from the
database.

Per poll Redis keeps the exact counters (``tally:N``: reconciliation and `polls tallies check`
compare them with the database) and the *published* figures everything public reads
(``tally:N:shown``, with the receipts in ``tally:N:receipts``). New receipts wait in
``tally:N:pending``, kept in the order of their text, not their arrival. Once at least k ballots
(the poll's ``secrecy_k``) are unpublished, the same script that counted them copies the exact
counters to the published ones, moves the pending receipts across and tells every instance.
Being one script, the step is decided once however many app instances count. A closed poll
(``tally:N:final``) publishes at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from polls.domain.ballots import Answers, PollDef, tally_of
from polls.domain.polls import PollStatus
from polls.domain.secrecy import results_final, split_for_rebuild, steps_due
from polls.store.ballots import load_poll, poll_definition
from polls.store.db import Database
from polls.store.models import Ballot

log = logging.getLogger("polls.tallies")

PRESENT = "tallies:present"
REBUILD_LOCK = "tallies:rebuilding"
CHANGED = "tallies:changed"  # pub/sub channel; messages are poll ids

# Redis keeps a small set or hash in insertion order (a listpack, Redis 7.2+), so receipts never
# go in in their order of arrival: pending ones wait in a sorted set whose scores are all 0 (kept
# in the order of their text, which is random), and each step adds its receipts to the published
# set in that order too. Pending holds fewer than k: a batch that completes a step goes straight
# across, merged with what was pending.
# publish_step: KEYS exact, shown, pending, receipts; ``arriving``: receipts sorted by text. The
# published counters are a copy of the exact ones taken at the step (one COPY).
_STEP = """
local function publish_step(keys, arriving)
  if redis.call('COPY', keys[1], keys[2], 'REPLACE') == 0 then redis.call('DEL', keys[2]) end
  local waited = redis.call('ZRANGE', keys[3], 0, -1)
  local moved, i, j = {}, 1, 1
  while i <= #waited or j <= #arriving do
    if j > #arriving or (i <= #waited and waited[i] < arriving[j]) then
      moved[#moved + 1] = waited[i]; i = i + 1
    else
      moved[#moved + 1] = arriving[j]; j = j + 1
    end
  end
  for m = 1, #moved, 1000 do
    redis.call('SADD', keys[4], unpack(moved, m, math.min(m + 999, #moved)))
  end
  redis.call('DEL', keys[3])
end
"""

# Count a committed batch, only while the tallies are known complete (say so when they are
# not), then publish a step when one is due (polls.domain.secrecy.steps_due) and tell every
# instance on the channel ARGV[1] that the poll ARGV[2] changed; else its receipts wait.
# KEYS: present, exact, shown, pending, receipts, final.
# ARGV: channel, poll id, k, receipt count, receipts (sorted)..., counter, n, counter, n...
_APPLY = (
    _STEP
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[4])
for i = 5 + n, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
local exact = tonumber(redis.call('HGET', KEYS[2], 'ballots') or '0')
local shown = tonumber(redis.call('HGET', KEYS[3], 'ballots') or '0')
local behind = exact - shown
if behind > 0 and (behind >= tonumber(ARGV[3]) or redis.call('EXISTS', KEYS[6]) == 1) then
  local arriving = {}
  for i = 5, 4 + n do arriving[#arriving + 1] = ARGV[i] end
  publish_step({KEYS[2], KEYS[3], KEYS[4], KEYS[5]}, arriving)
  redis.call('PUBLISH', ARGV[1], ARGV[2])
elseif n > 0 then
  local scored = {}
  for i = 5, 4 + n do
    scored[#scored + 1] = 0
    scored[#scored + 1] = ARGV[i]
  end
  redis.call('ZADD', KEYS[4], unpack(scored))
end
return 1
"""
)

# The poll closed: from now on publish everything at once, starting with what is pending.
# KEYS: exact, shown, pending, receipts, final.  ARGV: channel, poll id.
_FINISH = (
    _STEP
    + """
redis.call('SET', KEYS[5], '1')
publish_step({KEYS[1], KEYS[2], KEYS[3], KEYS[4]}, {})
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
"""
)


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
    @property
    def tracker(self) -> str: ...


def tally_key(poll_id: int) -> str:
    return f"tally:{poll_id}"


def poll_keys(poll_id: int) -> tuple[str, str, str, str, str]:
    """exact counters, published counters, pending receipts, published receipts, closed marker."""
    base = tally_key(poll_id)
    return base, f"{base}:shown", f"{base}:pending", f"{base}:receipts", f"{base}:final"


Row = tuple[Answers, int | None, str, str]  # answers, area id, channel, tracker


class Tallies:
    def __init__(self, redis: Redis, db: Database) -> None:
        self.redis = redis
        self.db = db
        self._apply = redis.register_script(_APPLY)
        self._finish = redis.register_script(_FINISH)
        self.stale = False  # counts lost or half-updated: added to no more until rebuilt

    async def apply(self, votes: Iterable[CommittedVote]) -> bool:
        """Add committed votes to the live counts (the ballot writer calls this after each commit,
        in commit order). False when they were not added because the counts must be rebuilt
        first (Redis lost them, or an earlier update failed half-way): the writer rebuilds once
        none of its batches is in flight, so the rebuild counts these votes exactly once."""
        if self.stale:
            return False
        by_poll: dict[int, tuple[PollDef, list[tuple[Answers, int | None, str]], list[str]]] = {}
        for vote in votes:
            _, ballots, trackers = by_poll.setdefault(vote.poll.id, (vote.poll, [], []))
            ballots.append((vote.answers, vote.area_id, vote.channel))
            trackers.append(vote.tracker)
        try:
            for poll_id, (poll, ballots, trackers) in by_poll.items():
                trackers.sort()  # the script adds them to Redis in this order, never in arrival's
                args: list[str | int] = [CHANGED, poll_id, poll.secrecy_k, len(trackers), *trackers]
                for name, n in tally_of(poll, ballots).items():
                    args += [name, n]
                if not await self._apply(keys=[PRESENT, *poll_keys(poll_id)], args=args):
                    self.stale = True
        except Exception:
            self.stale = True  # some increments may be missing
            raise
        return not self.stale

    async def read(self, poll_id: int) -> dict[str, int]:
        """The exact counts: for checks against the database, and for closed polls."""
        raw = await self.redis.hgetall(tally_key(poll_id))
        return {str(k): int(v) for k, v in raw.items()}

    async def read_published(self, poll_id: int) -> dict[str, int]:
        """The figures as of the last step: what anyone may see of an open poll."""
        raw = await self.redis.hgetall(poll_keys(poll_id)[1])
        return {str(k): int(v) for k, v in raw.items()}

    async def published_receipts(self, poll_id: int) -> list[str]:
        """The receipts published so far, sorted (so their order says nothing of the ballots')."""
        return sorted(str(t) for t in await self.redis.smembers(poll_keys(poll_id)[3]))

    async def waiting(self, poll_id: int, tracker: str) -> bool:
        """Whether this receipt is counted and will be listed with the next step."""
        return await self.redis.zscore(poll_keys(poll_id)[2], tracker) is not None

    async def finish(self, poll_id: int) -> None:
        """The poll has closed: publish the remainder now, and any late count at once. Pages
        read a closed poll's exact counts anyway, so a Redis failure here only delays the
        websocket's last update (until the next rebuild)."""
        try:
            await self._finish(keys=list(poll_keys(poll_id)), args=[CHANGED, poll_id])
        except (RedisError, OSError) as exc:
            log.warning("poll %s closed; its live figures could not be published: %s", poll_id, exc)

    async def from_database(self, poll_id: int) -> tuple[PollDef, Counter[str]]:
        poll, _, rows = await self._stored(poll_id)
        return poll, tally_of(poll, [row[:3] for row in rows])

    async def _stored(self, poll_id: int) -> tuple[PollDef, bool, list[Row]]:
        """The poll, whether it has closed, and its stored ballots."""
        async with self.db() as session:
            poll = await load_poll(session, poll_id)
            query = select(Ballot.answers, Ballot.area_id, Ballot.channel, Ballot.tracker)
            rows = (await session.execute(query.where(Ballot.poll_id == poll_id))).all()
        return (
            poll_definition(poll),
            results_final(PollStatus(poll.status)),
            [(a, area, ch, t) for a, area, ch, t in rows],
        )

    async def rebuild(self, poll_id: int) -> Counter[str]:
        """Recount the poll from the database. The receipts already published stay published
        (their figures are recounted); when none survive (Redis lost them), a random choice of
        the remainder after whole steps is held back, so the rebuild shows no step below k."""
        poll, closed, rows = await self._stored(poll_id)
        exact_key, shown_key, pending_key, receipts_key, final_key = poll_keys(poll_id)
        listed = set(await self.redis.smembers(receipts_key))
        if listed and listed <= {row[3] for row in rows}:
            shown = [row for row in rows if row[3] in listed]
            held = [row for row in rows if row[3] not in listed]
            if steps_due(len(rows), len(shown), poll.secrecy_k, final=closed):
                shown, held = rows, []
        else:
            shown, held = split_for_rebuild(rows, poll.secrecy_k, random.SystemRandom(), final=closed)
        counts = tally_of(poll, [row[:3] for row in rows])
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(exact_key, shown_key, pending_key, receipts_key, final_key)
            if counts:
                pipe.hset(exact_key, mapping=dict[Any, Any](counts))
            published = tally_of(poll, [row[:3] for row in shown])
            if published:
                pipe.hset(shown_key, mapping=dict[Any, Any](published))
            if shown:
                pipe.sadd(receipts_key, *(row[3] for row in shown))
            if held:
                pipe.zadd(pending_key, dict.fromkeys((row[3] for row in held), 0))
            if closed:
                pipe.set(final_key, "1")
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
