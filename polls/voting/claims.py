"""The de-dup fast path: a card's vote claimed in Redis before its batch reaches the database.

Redis refuses an obvious second use of a code in one call per batch; the database's nullifiers
decide in the end, so when Redis is down every vote goes on to the database. A claim is keyed on
the nullifier of the card's own reference, never on the reference itself.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from polls.domain.eligibility import nullifier
from polls.voting.votes import Vote

log = logging.getLogger("polls.ballots")

CLAIM_TTL = 60  # a claim only has to outlive its batch; it is extended once the ballot commits
SPENT_TTL = 24 * 3600  # the fast path only has to outlive retries; the database guards for ever

# One call per batch, whatever its size (a command per vote cost more than the rest of the
# batch). CLAIM answers a flag per key, "1" where the key was free and is now claimed.
_CLAIM = """
local fresh = {}
for i, key in ipairs(KEYS) do
  fresh[i] = redis.call('SET', key, '1', 'NX', 'EX', ARGV[1]) and '1' or '0'
end
return table.concat(fresh)
"""
# SETTLE keeps the claims flagged "1" (spent codes) for SPENT_TTL and frees the rest.
_SETTLE = """
for i, key in ipairs(KEYS) do
  if string.sub(ARGV[1], i, i) == '1' then
    redis.call('EXPIRE', key, ARGV[2])
  else
    redis.call('DEL', key)
  end
end
return 1
"""


class Claims:
    """Claims on cards' votes in Redis, taken and settled a batch at a time."""

    def __init__(self, redis: Redis) -> None:
        self._claim_script = redis.register_script(_CLAIM)
        self._settle_script = redis.register_script(_SETTLE)

    async def claim(self, votes: list[Vote], key: bytes) -> tuple[list[Vote], list[Vote]] | None:
        """One Redis call marks each card's key spent (briefly): the votes now claimed, and those
        whose card was already claimed. None when Redis is unavailable: the database decides."""
        for vote in votes:
            vote.fast_path_key = f"spent:{vote.poll.id}:{nullifier(key, vote.poll.id, vote.reference)}"
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
        """Claims of spent codes last a day; every other claim is freed at once, so a code that
        did not vote (refused, failed, or its request went away) can try again."""
        if not claimed:
            return
        kept = {id(v) for v in spent}
        flags = "".join("1" if id(v) in kept else "0" for v in claimed)
        try:
            await self._settle_script(keys=[v.fast_path_key for v in claimed], args=[flags, SPENT_TTL])
        except (RedisError, OSError) as exc:
            log.warning("could not settle fast-path claims: %s", exc)
