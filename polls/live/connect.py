"""A Redis client from REDIS_URL: one server, or the master of a service behind Redis Sentinel.

    redis://[[user]:password@]host:6379/0     one server (rediss:// for TLS, unix:///path.sock)
    redis+sentinel://[[user]:password@]sentinel-1:26379,sentinel-2:26379/service-name[/0]

With Sentinel the client asks the Sentinels where the master of ``service-name`` is, and asks
again when a connection to it fails, so the service follows a failover without a restart. The
password is the Redis servers' password; Sentinels are expected not to need one.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

from polls.settings import check_url, sentinel_target


class SentinelRedis(Redis):
    """The master's client; closing it also closes the connections to the Sentinels."""

    sentinels: list[Redis]

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for client in self.sentinels:
            await client.aclose()


def connect(url: str, **options: Any) -> Redis:
    """A client for REDIS_URL; ``options`` are redis-py's (timeouts, decode_responses, ...)."""
    check_url(url)
    if not url.startswith("redis+sentinel://"):
        return Redis.from_url(url, **options)
    target = sentinel_target(url)
    timeouts = {k: v for k, v in options.items() if k.startswith("socket_")}
    sentinel = Sentinel(list(target.sentinels), sentinel_kwargs=timeouts or {"socket_timeout": 1.0})
    client = sentinel.master_for(
        target.service,
        redis_class=SentinelRedis,
        db=target.db,
        username=target.username,
        password=target.password,
        **options,
    )
    assert isinstance(client, SentinelRedis)
    client.sentinels = sentinel.sentinels
    return client
