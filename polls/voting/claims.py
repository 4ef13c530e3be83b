"""The de-dup fast path: a card's vote claimed in Redis before its batch reaches the database.

Redis refuses an obvious second use of a code in one call per batch; the database's nullifiers
decide in the end, so when Redis is down every vote goes on to the database. A claim is keyed on
an HMAC of the card's code (polls.domain.voter_secrets.claim_key), so neither the database nor
the service's keys say which card a key is. A spent marker expires at one instant per poll (its
close plus a day), never a time counted from the vote, so TTLs say nothing of when anyone voted.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import groupby

from redis.asyncio import Redis
from redis.exceptions import RedisError

from polls.voting.votes import Vote

log = logging.getLogger("polls.ballots")

# A claim only has to outlive its batch (then it is freed or becomes a spent marker); its TTL
# shows only that a vote is in flight, and it is short so a crashed instance's claim frees itself.
CLAIM_TTL = 60
SPENT_MARGIN = timedelta(days=1)  # spent markers outlive the poll's close by this much
# A poll with no close time: its markers expire this long after it was created, all at once;
# if it is still open then, the database alone refuses second votes (exactly once still holds).
UNDATED_POLL = timedelta(days=366)


def spent_until(closes_at: datetime | None, created_at: datetime) -> int:
    """The instant (epoch seconds) every spent marker of a poll expires: fixed per poll."""
    return int(((closes_at or created_at + UNDATED_POLL) + SPENT_MARGIN).timestamp())


# One call per batch, whatever its size (a command per vote cost more than the rest of the
# batch). CLAIM answers a flag per key, "1" where the key was free and is now claimed.
_CLAIM = """
local fresh = {}
for i, key in ipairs(KEYS) do
  fresh[i] = redis.call('SET', key, '1', 'NX', 'EX', ARGV[1]) and '1' or '0'
end
return table.concat(fresh)
"""
# SETTLE keeps the claims flagged "1" in ARGV[1] (spent codes) until their poll's instant and
# frees the rest. The keys come in runs sharing an instant (one run a poll): ARGV[2], ARGV[3]
# are the first run's length and instant, and so on.
_SETTLE = """
local i = 0
for r = 2, #ARGV, 2 do
  for _ = 1, tonumber(ARGV[r]) do
    i = i + 1
    if string.sub(ARGV[1], i, i) == '1' then
      redis.call('EXPIREAT', KEYS[i], ARGV[r + 1])
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
return 1
"""


class Claims:
    """Claims on cards' votes in Redis, taken and settled a batch at a time."""

    def __init__(self, redis: Redis) -> None:
        self._claim_script = redis.register_script(_CLAIM)
        self._settle_script = redis.register_script(_SETTLE)

    async def claim(self, votes: list[Vote]) -> tuple[list[Vote], list[Vote]] | None:
        """One Redis call marks each card's key spent (briefly): the votes now claimed, and those
        whose card was already claimed. None when Redis is unavailable: the database decides."""
        try:
            fresh = await self._claim_script(keys=[v.fast_path_key for v in votes], args=[CLAIM_TTL])
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
            await self._settle_script(keys=[v.fast_path_key for v in claimed], args=[flags, *runs])
        except (RedisError, OSError) as exc:
            log.warning("could not settle fast-path claims: %s", exc)


def _instant(vote: Vote) -> int:
    return vote.spent_until
