"""The de-dup fast path: a card's vote claimed in Redis before its batch reaches the database.

Redis refuses an obvious second use of a code in one call per batch; the database's nullifiers
decide in the end, so when Redis is down every vote goes on to the database. A claim is keyed on
an HMAC of the card's code (polls.domain.voter_secrets.claim_key), so neither the database nor
the service's keys say which card a key is. A spent marker expires at one instant per poll (its
close plus a day), never a time counted from the vote, so TTLs say nothing of when anyone voted.

A claim in flight names the instance that holds it, and each instance keeps a short-lived
heartbeat key while it runs. A claim whose instance stopped beating (killed with votes in flight,
so they were never committed by it) is taken over by the next try: a resident retrying elsewhere
waits seconds, not the claim's TTL, and is never told "already used" for a vote that does not
exist. If the dead instance did commit, the database's nullifier still refuses the retry.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timedelta
from itertools import groupby

from redis.asyncio import Redis
from redis.exceptions import RedisError

from polls.voting.votes import Vote

log = logging.getLogger("polls.ballots")

# A claim only has to outlive its batch (then it is freed or becomes a spent marker); its TTL
# shows only that a vote is in flight, and it is short so a crashed instance's claim frees itself.
CLAIM_TTL = 60
# An instance is alive while its heartbeat key exists: refreshed every BEAT seconds, it lapses
# ALIVE seconds after the instance stops (or its event loop stalls that long: the database
# still decides, so a claim taken over from a live instance costs nothing but a wasted write).
ALIVE = 4
BEAT = 1.0
ALIVE_PREFIX = "claims:alive:"
SPENT = "spent"  # a settled claim's value: the code voted (older markers hold "1")
SPENT_MARGIN = timedelta(days=1)  # spent markers outlive the poll's close by this much
# A poll with no close time: its markers expire this long after it was created, all at once;
# if it is still open then, the database alone refuses second votes (exactly once still holds).
UNDATED_POLL = timedelta(days=366)


def spent_until(closes_at: datetime | None, created_at: datetime) -> int:
    """The instant (epoch seconds) every spent marker of a poll expires: fixed per poll."""
    return int(((closes_at or created_at + UNDATED_POLL) + SPENT_MARGIN).timestamp())


# One call per batch, whatever its size (a command per vote cost more than the rest of the
# batch). CLAIM answers a flag per key, "1" where the key was free (or held by an instance that
# is no longer alive) and is now claimed by ARGV[2]. ARGV: TTL, owner, heartbeat key prefix.
_CLAIM = """
local fresh = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[2], 'NX', 'EX', ARGV[1]) then
    fresh[i] = '1'
  else
    local holder = redis.call('GET', key)
    if holder and holder ~= 'spent' and holder ~= '1' and redis.call('EXISTS', ARGV[3] .. holder) == 0 then
      redis.call('SET', key, ARGV[2], 'EX', ARGV[1])
      fresh[i] = '1'
    else
      fresh[i] = '0'
    end
  end
end
return table.concat(fresh)
"""
# SETTLE marks the claims flagged "1" in ARGV[1] spent until their poll's instant and frees the
# rest that are still this owner's (ARGV[2]): one taken over meanwhile is its new owner's. The
# keys come in runs sharing an instant (one run a poll): ARGV[3], ARGV[4] are the first run's
# length and instant, and so on.
_SETTLE = """
local i = 0
for r = 3, #ARGV, 2 do
  for _ = 1, tonumber(ARGV[r]) do
    i = i + 1
    if string.sub(ARGV[1], i, i) == '1' then
      redis.call('SET', KEYS[i], 'spent')
      redis.call('EXPIREAT', KEYS[i], ARGV[r + 1])
    elseif redis.call('GET', KEYS[i]) == ARGV[2] then
      redis.call('DEL', KEYS[i])
    end
  end
end
return 1
"""


class Claims:
    """Claims on cards' votes in Redis, taken and settled a batch at a time, by one owner: this
    instance, whose heartbeat (``beat_forever``) says it can still commit what it claimed."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.owner = secrets.token_hex(8)
        self._claim_script = redis.register_script(_CLAIM)
        self._settle_script = redis.register_script(_SETTLE)

    @property
    def alive_key(self) -> str:
        return ALIVE_PREFIX + self.owner

    async def beat(self) -> None:
        try:
            await self.redis.set(self.alive_key, "1", ex=ALIVE)
        except (RedisError, OSError) as exc:
            log.debug("claims heartbeat missed: %s", exc)

    async def beat_forever(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(BEAT)

    async def retire(self) -> None:
        """Stopped, every claim settled: say so at once rather than when the heartbeat lapses."""
        try:
            await self.redis.delete(self.alive_key)
        except (RedisError, OSError) as exc:
            log.debug("claims heartbeat not removed: %s", exc)

    async def claim(self, votes: list[Vote]) -> tuple[list[Vote], list[Vote]] | None:
        """One Redis call marks each card's key spent (briefly): the votes now claimed, and those
        whose card was already claimed. None when Redis is unavailable: the database decides."""
        try:
            fresh = await self._claim_script(
                keys=[v.fast_path_key for v in votes], args=[CLAIM_TTL, self.owner, ALIVE_PREFIX]
            )
        except (RedisError, OSError) as exc:
            log.warning("vote fast path unavailable: %s", exc)
            return None
        claimed: list[Vote] = []
        taken: list[Vote] = []
        for vote, flag in zip(votes, fresh, strict=True):
            (claimed if flag == "1" else taken).append(vote)
        return claimed, taken

    async def settle(self, claimed: list[Vote], *, spent: list[Vote]) -> None:
        """Claims of spent codes last until their poll's instant; every other claim is freed at
        once, so a code that did not vote (refused, failed, or its request went away) can try again."""
        if not claimed:
            return
        kept = {id(v) for v in spent}
        claimed = sorted(claimed, key=_instant)  # each poll's keys together (usually one poll)
        flags = "".join("1" if id(v) in kept else "0" for v in claimed)
        runs: list[int] = []
        for instant, run in groupby(claimed, key=_instant):
            runs += [len(list(run)), instant]
        try:
            await self._settle_script(
                keys=[v.fast_path_key for v in claimed], args=[flags, self.owner, *runs]
            )
        except (RedisError, OSError) as exc:
            log.warning("could not settle fast-path claims: %s", exc)


def _instant(vote: Vote) -> int:
    return vote.spent_until
