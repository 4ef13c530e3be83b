"""Rebuilding the live tallies from the database: one instance at a time, fenced, in chunks, and
with no increment lost or counted twice while it runs.

1. The rebuilder takes ``tallies:rebuilding`` with a fresh generation number (its fencing token)
   and deletes the marker that says the tallies are complete. From then on every instance's
   increments go to a side list instead (polls.live.tallies: the same script, so no increment
   falls between the two).
2. It reads each poll's ballots from the database in one consistent read, a chunk at a time
   (the event loop serves requests between chunks), into keys of its own generation.
3. One script, refused unless the lock still holds its token, moves those keys over the live
   ones, then adds the side list's increments, each batch at most once: a batch whose receipt
   the rebuild already holds was in its read, any other was committed after it. Steps are then
   published by the same k rule as always, the marker is set, and the lock released.

A rebuilder that dies, stalls past its lock or is overtaken writes nothing live: everything it
wrote carries its own generation and expires. Increments never wait for a rebuild; the public
figures merely hold still until it is done.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select

from polls.domain.ballots import PollDef, tally_of
from polls.domain.polls import PollStatus
from polls.domain.secrecy import HoldBack, results_final, steps_due
from polls.store.ballots import load_poll, poll_definition
from polls.store.db import Database
from polls.store.models import Ballot
from polls.store.tally_counts import counted, snapshot

log = logging.getLogger("polls.tallies")

PRESENT = "tallies:present"
LOCK = "tallies:rebuilding"
GENERATION = "tallies:generation"
SIDE = "tallies:side"  # increments counted while the tallies were not known complete
LOCK_TTL = 30  # seconds; renewed after every chunk, so only a dead or stalled rebuilder loses it
SCRATCH_TTL = 600  # a dead rebuilder's keys go away by themselves
CHUNK = 5000  # receipts copied per turn of the event loop (a few milliseconds)
PARTS = ("", ":shown", ":pending", ":receipts")  # exact, published, pending and published receipts

# Publish a poll's step: KEYS exact, shown, pending, receipts; ``arriving``: receipts sorted by
# text. Redis keeps a small set or hash in insertion order (a listpack, Redis 7.2+), so receipts
# never go in in their order of arrival: pending ones wait in a sorted set whose scores are all 0
# (kept in the order of their text, which is random), and each step adds its receipts to the
# published set in that order too. Pending holds fewer than k: a batch that completes a step goes
# straight across, merged with what was pending. The published counters are a copy of the exact
# ones taken at the step (one COPY).
STEP = """
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

# KEYS: lock, present.  ARGV: token.
_BEGIN = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
return 1
"""
# KEYS: lock.  ARGV: token, seconds.
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
# KEYS: lock, present, side.  ARGV: token, channel, then per rebuilt poll: id, closed ("1").
_COMMIT = (
    STEP
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local parts = {'', ':shown', ':pending', ':receipts'}
local rebuilt, changed = {}, {}
for i = 3, #ARGV, 2 do
  local base = 'tally:' .. ARGV[i]
  for _, part in ipairs(parts) do
    local scratch = base .. ':rebuild:' .. ARGV[1] .. part
    if redis.call('EXISTS', scratch) == 1 then
      redis.call('RENAME', scratch, base .. part)
      redis.call('PERSIST', base .. part)
    else
      redis.call('DEL', base .. part)
    end
  end
  if ARGV[i + 1] == '1' then redis.call('SET', base .. ':final', '1') end
  rebuilt[ARGV[i]] = true
  changed[ARGV[i]] = '0'
end
for _, raw in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  local e = cjson.decode(raw)
  local base = 'tally:' .. e.p
  local counted = rebuilt[e.p] and (redis.call('SISMEMBER', base .. ':receipts', e.t[1]) == 1
    or redis.call('ZSCORE', base .. ':pending', e.t[1]))
  if not counted then
    for _, receipt in ipairs(e.t) do redis.call('ZADD', base .. ':pending', 0, receipt) end
    for i = 1, #e.c, 2 do redis.call('HINCRBY', base, e.c[i], e.c[i + 1]) end
    changed[e.p] = e.k
  end
end
for p, k in pairs(changed) do
  local base = 'tally:' .. p
  local behind = tonumber(redis.call('HGET', base, 'ballots') or '0')
    - tonumber(redis.call('HGET', base .. ':shown', 'ballots') or '0')
  if behind > 0 and k ~= '0' and (behind >= tonumber(k) or redis.call('EXISTS', base .. ':final') == 1) then
    publish_step({base, base .. ':shown', base .. ':pending', base .. ':receipts'}, {})
  end
  redis.call('PUBLISH', ARGV[2], p)
end
redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[2], '1')
redis.call('DEL', KEYS[1])
return 1
"""
)


class Overtaken(Exception):
    """The lock expired or passed to another rebuilder: this one must write nothing more."""


@dataclass
class _Poll:
    """One poll's recount: counters by the database, receipts streamed a chunk at a time."""

    poll: PollDef
    closed: bool
    counts: Counter[str]
    listed: int  # receipts published before the rebuild (that survived, if Redis restarted)
    listed_seen: int = 0  # of those, how many the database holds
    unlisted: list[str] = field(default_factory=list)  # the other receipts (while fewer than k)

    def held(self, sample: HoldBack[str]) -> list[str]:
        """The receipts to keep pending, by the k rule: those already published stay published
        and the rest wait for their step; when none survive (Redis lost them), a random
        remainder after whole steps waits."""
        total = self.counts.get("ballots", 0)
        if self.listed and self.listed_seen == self.listed:
            due = steps_due(total, self.listed, self.poll.secrecy_k, final=self.closed)
            return [] if due else self.unlisted
        return sample.held(final=self.closed)


class Rebuild:
    """One rebuild of the live tallies, holding the lock under its own generation."""

    def __init__(self, redis: Redis, db: Database, channel: str, token: str) -> None:
        self.redis = redis
        self.db = db
        self.channel = channel
        self.token = token
        self._begin = redis.register_script(_BEGIN)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._commit = redis.register_script(_COMMIT)

    @classmethod
    async def take(cls, redis: Redis, db: Database, channel: str) -> Rebuild | None:
        """The lock under a new generation, or None while another instance holds it."""
        token = str(await redis.incr(GENERATION))
        if not await redis.set(LOCK, token, nx=True, ex=LOCK_TTL):
            return None
        return cls(redis, db, channel, token)

    async def run(self, poll_ids: list[int] | None) -> dict[int, int]:
        """Rebuild these polls (every poll with ballots when None): ballots counted per poll."""
        try:
            await self._fenced(self._begin, [LOCK, PRESENT], [self.token])
            if poll_ids is None:
                async with self.db() as session:
                    poll_ids = list((await session.execute(select(Ballot.poll_id).distinct())).scalars())
            rebuilt = [await self._recount(poll_id) for poll_id in poll_ids]
            args: list[str | int] = [self.token, self.channel]
            for poll_id, one in zip(poll_ids, rebuilt, strict=True):
                args += [poll_id, "1" if one.closed else "0"]
            await self._fenced(self._commit, [LOCK, PRESENT, SIDE], args)
            return {p: one.counts.get("ballots", 0) for p, one in zip(poll_ids, rebuilt, strict=True)}
        finally:
            await self._release(keys=[LOCK], args=[self.token])

    async def _fenced(self, script: Any, keys: list[str], args: list[Any]) -> None:
        if not await script(keys=keys, args=args):
            raise Overtaken(f"tally rebuild {self.token} lost its lock")

    def _scratch(self, poll_id: int, part: str) -> str:
        return f"tally:{poll_id}:rebuild:{self.token}{part}"

    async def _recount(self, poll_id: int) -> _Poll:
        """Count the poll in the database and copy its receipts, a chunk at a time, into this
        generation's own keys: both from one snapshot, so they agree."""
        receipts = f"tally:{poll_id}:receipts"
        every = self._scratch(poll_id, ":every")
        # Seeded from the system's randomness: a draw per ballot from the system would cost more
        # than the rest of the rebuild, and nothing public shows the generator's outputs.
        sample = HoldBack[str](0, random.Random(secrets.randbits(256)))
        async with self.db() as session:
            await snapshot(session)
            stored = await load_poll(session, poll_id)
            poll = poll_definition(stored)
            listed = await self.redis.scard(receipts)
            one = _Poll(poll, results_final(PollStatus(stored.status)), await counted(session, poll), listed)
            sample.k = poll.secrecy_k
            query = select(Ballot.tracker).where(Ballot.poll_id == poll_id)
            result = await session.stream_scalars(query.execution_options(yield_per=CHUNK))
            async for chunk in result.partitions():
                await self._copy(one, list(chunk), every, sample)
            held = one.held(sample)
            of_held = select(Ballot.answers, Ballot.area_id, Ballot.channel).where(
                Ballot.poll_id == poll_id, Ballot.tracker.in_(held)
            )
            held_rows = [(a, area, ch) for a, area, ch in await session.execute(of_held)] if held else []
        figures = one.counts - tally_of(poll, held_rows)
        exact, shown, pending, published = (self._scratch(poll_id, part) for part in PARTS)
        async with self.redis.pipeline(transaction=False) as pipe:
            if held:
                pipe.srem(every, *held)
                pipe.zadd(pending, dict.fromkeys(held, 0))
            if one.counts.get("ballots", 0) > len(held):  # else the set went with its last member
                pipe.rename(every, published)
            if one.counts:
                pipe.hset(exact, mapping=dict[Any, Any](one.counts))
            if figures:
                pipe.hset(shown, mapping=dict[Any, Any](figures))
            for key in (exact, shown, pending, published):
                pipe.expire(key, SCRATCH_TTL)
            await pipe.execute()
        return one

    async def _copy(self, one: _Poll, trackers: list[str], every: str, sample: HoldBack[str]) -> None:
        """One chunk of receipts: noted for the hold-back, checked against those published,
        copied; and the lock renewed (or this rebuild stops, overtaken)."""
        for tracker in trackers:
            sample.offer(tracker)
        if one.listed:
            flags = await self.redis.smismember(f"tally:{one.poll.id}:receipts", trackers)
            one.listed_seen += sum(flags)
            if len(one.unlisted) < one.poll.secrecy_k:
                one.unlisted += [t for t, flag in zip(trackers, flags, strict=True) if not flag]
        async with self.redis.pipeline(transaction=False) as pipe:
            # In the order of their text, never the database's (which is the order of arrival):
            # a small set keeps the order it was filled in.
            pipe.sadd(every, *sorted(trackers))
            pipe.expire(every, SCRATCH_TTL)
            await pipe.execute()
        await self._fenced(self._renew, [LOCK], [self.token, LOCK_TTL])
