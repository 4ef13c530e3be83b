"""REDIS_URL may name a service behind Redis Sentinel: the app finds the master through the
Sentinels, and after a failover carries on with the promoted replica without a restart."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncSession

from polls.app import create_app
from polls.live.connect import connect
from polls.live.embedded import EmbeddedRedis, _die_with_parent, redis_server_binary
from polls.settings import (
    RedisUrlInvalid,
    SentinelTarget,
    Settings,
    SettingsError,
    check_url,
    from_environment,
    sentinel_target,
)
from polls.store.models import Ballot
from tests.conftest import count
from tests.factories import BALLOT_KEY, SECRET
from tests.servers import free_port
from tests.voting_setup import Setup, settled_tallies, token

SERVICE = "polls-redis"


def test_sentinel_urls_name_the_sentinels_the_service_and_the_database() -> None:
    url = "redis+sentinel://:s3cret@10.0.0.1:26379,sentinel-b:26380/polls/2"
    assert sentinel_target(url) == SentinelTarget(
        sentinels=(("10.0.0.1", 26379), ("sentinel-b", 26380)), service="polls", db=2, password="s3cret"
    )
    assert sentinel_target("redis+sentinel://s:26379/polls").db == 0


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("localhost:6379", "must start with"),
        ("http://redis:6379", "must start with"),
        ("redis+sentinel://s:26379", "name the Sentinel service"),
        ("redis+sentinel://s:26379/polls/zero", "name the Sentinel service"),
        ("redis+sentinel://s:notaport/polls", "not a Sentinel host:port"),
        ("redis+sentinel://s:26379,:1/polls", "not a Sentinel host:port"),
    ],
)
def test_a_redis_url_we_cannot_use_is_refused_with_the_reason(url: str, problem: str) -> None:
    with pytest.raises(RedisUrlInvalid, match=problem):
        check_url(url)
    env = {
        "DATABASE_URL": "postgresql://db/polls",
        "REDIS_URL": url,
        "SECRET_KEYS": SECRET,
        "BALLOT_KEY": BALLOT_KEY,
        "BASE_URL": "https://polls.example.org",
    }
    with pytest.raises(SettingsError, match=problem):
        from_environment(env)


class SentinelServer:
    """One redis-server in Sentinel mode watching ``master_port``, quick to call a failover."""

    def __init__(self, data_dir: Path, master_port: int) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.config = data_dir / "sentinel.conf"
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {data_dir}\nlogfile {data_dir / 'sentinel.log'}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {master_port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_server_binary(), str(self.config), "--sentinel"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def master_port(self) -> int:
        with redis.Redis(port=self.port, decode_responses=True) as client:
            return int(client.execute_command("SENTINEL", "get-master-addr-by-name", SERVICE)[1])

    def knows_replica(self, port: int) -> bool:
        with redis.Redis(port=self.port, decode_responses=True) as client:
            replicas = client.execute_command("SENTINEL", "replicas", SERVICE)
        # redis-py answers a list of dicts here; each has the replica's port and its flags
        return any(int(r["port"]) == port and r["flags"] == "slave" for r in replicas)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[tuple[EmbeddedRedis, EmbeddedRedis, SentinelServer]]:
    master = EmbeddedRedis(tmp_path / "master", port=free_port(), persistent=False)
    master.start()
    replica = EmbeddedRedis(
        tmp_path / "replica",
        port=free_port(),
        persistent=False,
        extra_args=("--replicaof", "127.0.0.1", str(master.port)),
    )
    replica.start()
    sentinel = SentinelServer(tmp_path / "sentinel", master.port)
    sentinel.start()
    try:
        yield master, replica, sentinel
    finally:
        sentinel.stop()
        replica.stop()
        master.stop()


async def test_connect_finds_the_master_through_the_sentinels(
    sentinel_group: tuple[EmbeddedRedis, EmbeddedRedis, SentinelServer],
) -> None:
    master, _, sentinel = sentinel_group
    client = connect(f"redis+sentinel://127.0.0.1:{sentinel.port}/{SERVICE}", decode_responses=True)
    try:
        await client.set("written-through-sentinel", "yes")
    finally:
        await client.aclose()
    with redis.Redis(port=master.port, decode_responses=True) as direct:
        assert direct.get("written-through-sentinel") == "yes"


def _role(server: EmbeddedRedis) -> str:
    with redis.Redis(port=server.port, decode_responses=True) as direct:
        return str(direct.info("replication")["role"])


def _replica_in_sync(master: EmbeddedRedis) -> bool:
    with redis.Redis(port=master.port, decode_responses=True) as direct:
        info = direct.info("replication")
        return int(info.get("connected_slaves", 0)) == 1 and "online" in str(info.get("slave0", ""))


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_voting_carries_on_through_a_sentinel_failover_and_tallies_match(
    voting: Setup,
    settings: Settings,
    db: AsyncSession,
    tmp_path: Path,
    sentinel_group: tuple[EmbeddedRedis, EmbeddedRedis, SentinelServer],
) -> None:
    master, replica, sentinel = sentinel_group
    through_sentinel = Settings(
        database_url=settings.database_url,
        redis_url=f"redis+sentinel://127.0.0.1:{sentinel.port}/{SERVICE}",
        secret_keys=settings.secret_keys,
        data_dir=tmp_path,
        ballot_key=settings.ballot_key,
    )
    app = create_app(through_sentinel, run_scheduler=False)
    codes = iter(voting.codes["north"] + voting.codes_for_restart)
    poll_id = voting.poll["id"]
    outcomes: list[int] = []
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):

        async def cast() -> int:
            response = await http.post(
                f"/api/polls/{poll_id}/votes",
                json={"code": token(next(codes)), "answers": voting.full_ballot()},
            )
            assert response.status_code in (201, 503), response.text
            return response.status_code

        for _ in range(3):
            outcomes.append(await cast())
        assert outcomes == [201, 201, 201]
        deadline = time.monotonic() + 20  # Sentinels ask masters for replicas every 10 s
        while not (_replica_in_sync(master) and sentinel.knows_replica(replica.port)):
            assert time.monotonic() < deadline, "the replica never caught up"
            await asyncio.sleep(0.2)

        with redis.Redis(port=sentinel.port) as admin:
            admin.execute_command("SENTINEL", "FAILOVER", SERVICE)
        deadline = time.monotonic() + 20
        while sentinel.master_port() != replica.port or _role(master) != "slave":
            assert time.monotonic() < deadline, "the Sentinel never swapped master and replica"
            await asyncio.sleep(0.1)

        # The first write to the demoted master fails (READONLY), the client asks the
        # Sentinel again, and the tallies that missed it are rebuilt at the next commit.
        after = [await cast() for _ in range(4)]
        assert after[-2:] == [201, 201], after
        outcomes += after
        check = await settled_tallies(app.state.runtime, poll_id)
        assert check.agrees, check.differences
    acknowledged = outcomes.count(201)
    assert check.ballots == acknowledged
    assert await count(db, Ballot) == acknowledged
    with redis.Redis(port=replica.port, decode_responses=True) as promoted:
        assert promoted.info("replication")["role"] == "master"  # what the app wrote to
        assert int(promoted.hget(f"tally:{poll_id}", "ballots") or 0) == acknowledged
