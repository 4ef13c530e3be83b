"""Fan-out of live tallies to websocket clients, across app instances, coalesced.

Every instance subscribes to one Redis channel. A message only says "poll N changed" (a step
of at least k ballots was published, or a closed poll's last figures); the instance then reads
the published counts at most every ``interval`` seconds per poll and hands them to its local
subscribers, so a busy poll costs one Redis read per interval, not one per vote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from polls.live.tallies import CHANGED, Tallies

log = logging.getLogger("polls.hub")


class TallyHub:
    def __init__(self, redis: Redis, tallies: Tallies, *, interval: float = 0.1) -> None:
        self.redis = redis
        self.tallies = tallies
        self.interval = interval
        self._subscribers: dict[int, set[asyncio.Queue[dict[str, int]]]] = {}
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="tally-listen"),
            asyncio.create_task(self._flush(), name="tally-flush"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @contextlib.asynccontextmanager
    async def subscribe(self, poll_id: int) -> AsyncIterator[asyncio.Queue[dict[str, int]]]:
        queue: asyncio.Queue[dict[str, int]] = asyncio.Queue(maxsize=1)
        self._subscribers.setdefault(poll_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(poll_id, set())
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(poll_id, None)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANGED)
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            poll_id = int(message["data"])
                            if poll_id in self._subscribers:
                                self._dirty.add(poll_id)
                                self._wake.set()
            except (RedisError, OSError) as exc:  # Redis restarting: retry, clients keep their sockets
                log.warning("tally channel lost (%s); reconnecting", exc)
                await asyncio.sleep(0.5)

    async def _flush(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            for poll_id in dirty:
                subscribers = self._subscribers.get(poll_id)
                if not subscribers:
                    continue
                try:
                    counts = await self.tallies.read_published(poll_id)
                except (RedisError, OSError):
                    continue
                for queue in list(subscribers):
                    if queue.full():  # a slow client only ever needs the newest counts
                        queue.get_nowait()
                    queue.put_nowait(counts)
            await asyncio.sleep(self.interval)
