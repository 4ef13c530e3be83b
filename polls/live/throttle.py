"""Counting attempts in Redis windows, to slow down password guessing and floods."""

from __future__ import annotations

from redis.asyncio import Redis

# Check every key and count the attempt against all of them in one step, so concurrent attempts
# cannot all pass the check before any of them is counted. Returns 0 when admitted, else the
# seconds until the fullest key's window ends.
_ADMIT = """
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait = 0
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= limit then
    wait = math.max(wait, redis.call('TTL', key), 1)
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, window) end
end
return 0
"""


class Throttle:
    """At most ``limit`` attempts per key within ``window`` seconds (fixed window, shared by instances)."""

    def __init__(self, redis: Redis, name: str, *, limit: int, window: int) -> None:
        self.redis = redis
        self.name = name
        self.limit = limit
        self.window = window
        self._admit = redis.register_script(_ADMIT)

    def _key(self, key: str) -> str:
        return f"throttle:{self.name}:{key}"

    async def admit(self, *keys: str) -> int:
        """Count one attempt against every key, unless one is at its limit: then the seconds to
        wait (and nothing counted); 0 when the attempt may go ahead."""
        wait = await self._admit(keys=[self._key(k) for k in keys], args=[self.limit, self.window])
        return int(wait)

    async def uncount(self, key: str) -> None:
        """Take back one counted attempt (one that succeeded)."""
        await self.redis.decr(self._key(key))

    async def clear(self, *keys: str) -> None:
        await self.redis.delete(*(self._key(k) for k in keys))
