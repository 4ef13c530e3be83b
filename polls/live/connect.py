"""A Redis client from REDIS_URL: one server, or the master of a service behind Redis Sentinel.

    redis://[[user]:password@]host:6379/0     one server (rediss:// for TLS, unix:///path.sock)
    redis+sentinel://[[user]:password@]sentinel-1:26379,sentinel-2:26379/service-name[/0]

With Sentinel the client asks the Sentinels where the master of ``service-name`` is, and asks
again when a connection to it fails, so the service follows a failover without a restart. The
password is the Redis servers' password; Sentinels are expected not to need one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")


class RedisUrlInvalid(ValueError):
    pass


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None


def check_url(url: str) -> None:
    """Raise RedisUrlInvalid, saying what is wrong, unless ``url`` is one we can connect with."""
    scheme = url.partition("://")[0]
    if "://" not in url or scheme not in SCHEMES:
        raise RedisUrlInvalid(f"REDIS_URL must start with one of {', '.join(s + '://' for s in SCHEMES)}")
    if scheme == "redis+sentinel":
        sentinel_target(url)


def sentinel_target(url: str) -> SentinelTarget:
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.strip().rpartition(":")
        if not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise RedisUrlInvalid(f"REDIS_URL: {host!r} is not a Sentinel host:port")
        sentinels.append((name.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise RedisUrlInvalid("REDIS_URL: name the Sentinel service after the hosts: .../service-name[/db]")
    return SentinelTarget(
        sentinels=tuple(sentinels),
        service=path[0],
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


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
