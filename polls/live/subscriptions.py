"""Residents' "tell me when the results are published", held in Redis until there are enough of
them to write at once.

Writing each one to the database when it is made would date it (row order, SQLite's rowid and
write-ahead log, PostgreSQL's transaction ids), and a subscription is made just after a vote: a
reader of the storage could put the subscriber's address next to the ballot written just before.
So they wait here, without times, until a poll has at least k of them (its secrecy_k, the same
step its live results move in) or its voting has ended; then one instance takes them all in one
atomic step and the store writes them in a shuffled order in one transaction.
A Redis loss drops the ones still waiting (fewer than k per poll).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from redis.asyncio import Redis

# Append one; if the list has reached k, take the whole list (and forget it) in the same step.
_ADD = """
redis.call('SADD', KEYS[2], ARGV[3])
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
if n >= tonumber(ARGV[2]) then
  local all = redis.call('LRANGE', KEYS[1], 0, -1)
  redis.call('DEL', KEYS[1])
  return all
end
return {}
"""
_TAKE = """
local all = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return all
"""
WAITING = "subscriptions:polls"  # the polls with subscriptions waiting


@dataclass(frozen=True)
class Pending:
    id: str  # random; the unsubscribe link names it
    channel: str
    recipient: str
    language: str

    def dumps(self) -> str:
        return json.dumps([self.id, self.channel, self.recipient, self.language])

    @classmethod
    def loads(cls, raw: str) -> Pending:
        return cls(*json.loads(raw))


def _key(poll_id: int) -> str:
    return f"subscriptions:waiting:{poll_id}"


class PendingSubscriptions:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._add = redis.register_script(_ADD)
        self._take = redis.register_script(_TAKE)

    async def add(self, poll_id: int, pending: Pending, k: int) -> list[Pending]:
        """Hold one; returns the batch to write when this one completes it, else []."""
        taken = await self._add(keys=[_key(poll_id), WAITING], args=[pending.dumps(), k, poll_id])
        return [Pending.loads(raw) for raw in taken]

    async def take_all(self, poll_id: int) -> list[Pending]:
        taken = await self._take(keys=[_key(poll_id), WAITING], args=[poll_id])
        return [Pending.loads(raw) for raw in taken]

    async def put_back(self, poll_id: int, batch: list[Pending]) -> None:
        """A batch whose writing failed waits again (for the next one, or the end of voting)."""
        if batch:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(_key(poll_id), *(p.dumps() for p in batch))
                pipe.sadd(WAITING, poll_id)
                await pipe.execute()

    async def waiting_polls(self) -> list[int]:
        return sorted(int(p) for p in await self.redis.smembers(WAITING))

    async def forget(self, poll_id: int, subscription_id: str) -> bool:
        """Unsubscribe one still waiting; False if it is not here."""
        for raw in await self.redis.lrange(_key(poll_id), 0, -1):
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            if Pending.loads(text).id == subscription_id:
                removed = await self.redis.lrem(_key(poll_id), 1, text)
                return bool(removed)
        return False
