"""Counting attempts in Redis windows, to slow down password guessing and floods."""

from __future__ import annotations

from redis.asyncio import Redis


class Throttle:
    """At most ``limit`` hits per key within ``window`` seconds (fixed window, shared by instances)."""

    def __init__(self, redis: Redis, name: str, *, limit: int, window: int) -> None:
        self.redis = redis
        self.name = name
        self.limit = limit
        self.window = window

    def _key(self, key: str) -> str:
        return f"throttle:{self.name}:{key}"

    async def retry_after(self, *keys: str) -> int:
        """Seconds until every key is under its limit again; 0 when none is over it."""
        wait = 0
        for key in keys:
            count = await self.redis.get(self._key(key))
            if count is not None and int(count) >= self.limit:
                wait = max(wait, max(1, int(await self.redis.ttl(self._key(key)))))
        return wait

    async def hit(self, *keys: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                # Start the window on the first hit only (INCR keeps the expiry); works on Redis 6.2+.
                pipe.set(self._key(key), 0, ex=self.window, nx=True)
                pipe.incr(self._key(key))
            await pipe.execute()

    async def clear(self, *keys: str) -> None:
        await self.redis.delete(*(self._key(k) for k in keys))
