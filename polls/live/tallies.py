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

While the marker is missing (Redis restarted, or a rebuild is under way), increments go to a side
list that the rebuild merges (polls.live.rebuild), so none is lost and none counted twice.
Reconciliation compares each poll's turnout, counted by the database, with the live counters.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from polls.domain.ballots import Answers, PollDef, tally_of, tally_of_groups
from polls.live.rebuild import LOCK, PRESENT, SIDE, STEP, Rebuild
from polls.store.ballots import load_poll, poll_definition
from polls.store.db import Database
from polls.store.models import Ballot
from polls.store.tally_counts import counted
from polls.store.tally_counts import turnout as stored_turnout

log = logging.getLogger("polls.tallies")

CHANGED = "tallies:changed"  # pub/sub channel; messages are poll ids

# Count a committed batch while the tallies are known complete; when they are not, put it on the
# side list for the rebuild to merge, and say so. Then publish a step when one is due
# (polls.domain.secrecy.steps_due) and tell every instance on the channel ARGV[1] that the poll
# ARGV[2] changed; else its receipts wait (polls.live.rebuild.STEP says in what order).
# KEYS: present, exact, shown, pending, receipts, final, side.
# ARGV: channel, poll id, k, receipt count, receipts (sorted)..., counter, n, counter, n...
_APPLY = (
    STEP
    + """
local n = tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 0 then
  local receipts, counts = {}, {}
  for i = 5, 4 + n do receipts[#receipts + 1] = ARGV[i] end
  for i = 5 + n, #ARGV do counts[#counts + 1] = ARGV[i] end
  redis.call('RPUSH', KEYS[7], cjson.encode({p = ARGV[2], k = ARGV[3], t = receipts, c = counts}))
  return 0
end
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
    STEP
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


_NO_QUESTIONS = PollDef(id=0, pilot_id=0, area_ids=frozenset(), questions=())  # turnout only


class Tallies:
    def __init__(self, redis: Redis, db: Database) -> None:
        self.redis = redis
        self.db = db
        self._apply = redis.register_script(_APPLY)
        self._finish = redis.register_script(_FINISH)

    async def apply(self, votes: Iterable[CommittedVote]) -> bool:
        """Add committed votes to the live counts (the ballot writer calls this after each commit).
        False when the counts are not known complete (Redis lost them, or a rebuild is under way):
        the votes wait on the side list, and the caller asks for a rebuild, which merges them."""
        by_poll: dict[int, tuple[PollDef, list[tuple[Answers, int | None, str]], list[str]]] = {}
        for vote in votes:
            _, ballots, trackers = by_poll.setdefault(vote.poll.id, (vote.poll, [], []))
            ballots.append((vote.answers, vote.area_id, vote.channel))
            trackers.append(vote.tracker)
        complete = True
        for poll_id, (poll, ballots, trackers) in by_poll.items():
            trackers.sort()  # the script adds them to Redis in this order, never in arrival's
            args: list[str | int] = [CHANGED, poll_id, poll.secrecy_k, len(trackers), *trackers]
            for name, n in tally_of(poll, ballots).items():
                args += [name, n]
            if not await self._apply(keys=[PRESENT, *poll_keys(poll_id), SIDE], args=args):
                complete = False
        return complete

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
        """Every counter, counted by the database (for checks)."""
        async with self.db() as session:
            poll = poll_definition(await load_poll(session, poll_id))
            return poll, await counted(session, poll)

    async def turnout(self, poll_id: int) -> Counter[str]:
        """The ballots, per area and per channel, counted by the database: what reconciliation
        compares (a batch's counters are added in one script, so these agreeing means the rest do)."""
        async with self.db() as session:
            return tally_of_groups(_NO_QUESTIONS, await stored_turnout(session, poll_id), {})

    async def rebuild(self, poll_id: int) -> int | None:
        """Recount one poll from the database: its ballots, or None while another rebuild runs."""
        done = await self.rebuild_all([poll_id])
        return None if done is None else done[poll_id]

    async def rebuild_all(self, poll_ids: list[int] | None = None) -> dict[int, int] | None:
        """Rebuild these polls (every poll with ballots by default) once across instances, then
        mark the tallies present: the ballots counted per poll, or None when another instance is
        already rebuilding (its rebuild merges this instance's waiting increments too)."""
        rebuild = await Rebuild.take(self.redis, self.db, CHANGED)
        if rebuild is None:
            return None
        counted = await rebuild.run(poll_ids)
        log.info("rebuilt live tallies for %d poll(s) from the database", len(counted))
        return counted

    async def ensure_present(self) -> bool:
        """Rebuild if Redis lost the tallies (at start-up, and before each reconciliation).
        True if a rebuild ran."""
        if await self.redis.exists(PRESENT) or await self.redis.exists(LOCK):
            return False
        return await self.rebuild_all() is not None

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
    """Every ``interval`` seconds one instance compares each poll's turnout, counted by the
    database, with its live counters; a difference seen twice running (not just votes in
    flight) is repaired by a rebuild. Nothing is loaded into Python but counts."""
    suspect: dict[int, dict[str, tuple[int, int]]] = {}
    while True:
        await asyncio.sleep(interval)
        try:
            if not await tallies.redis.set(RECONCILE_LOCK, "1", nx=True, ex=max(1, int(interval))):
                continue
            await tallies.ensure_present()
            async with tallies.db() as session:
                poll_ids = list((await session.execute(select(Ballot.poll_id).distinct())).scalars())
            for poll_id in poll_ids:
                await _reconcile(tallies, poll_id, suspect)
        except Exception:  # a Redis or database blip: try again next time
            log.exception("tally reconciliation pass failed")


async def _reconcile(tallies: Tallies, poll_id: int, suspect: dict[int, dict[str, tuple[int, int]]]) -> None:
    stored = await tallies.turnout(poll_id)
    live = await tallies.read(poll_id)
    names = set(stored) | {n for n in live if n == "ballots" or n.startswith(("area:", "channel:"))}
    differences = {
        name: (live.get(name, 0), stored.get(name, 0))
        for name in sorted(names)
        if live.get(name, 0) != stored.get(name, 0)
    }
    if not differences:
        suspect.pop(poll_id, None)
    elif suspect.get(poll_id) == differences:
        log.warning("poll %s: live tally differed from the database twice; rebuilding", poll_id)
        await tallies.rebuild(poll_id)
        suspect.pop(poll_id, None)
    else:
        suspect[poll_id] = differences
