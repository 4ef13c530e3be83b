"""Fixtures: real Redis, real SQLite and PostgreSQL databases, the app in-process or under uvicorn."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.app import create_app
from polls.live.embedded import EmbeddedRedis
from polls.settings import Settings
from polls.store import staff as staff_store
from polls.store.db import open_engine, sessions_for
from polls.store.migrate import upgrade
from polls.store.staff import create_staff
from tests.factories import BALLOT_KEY, SECRET
from tests.mail import MailServer
from tests.servers import Postgres, free_port, in_this_process
from tests.voting_setup import voting  # noqa: F401 (a fixture shared by the voting tests)

ADMIN_EMAIL = "admin@council.example"
ADMIN_PASSWORD = "correct horse battery"
_counter = itertools.count()
T = TypeVar("T")


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> Iterator[None]:
    """argon2id at production cost takes about 100 ms a hash or a check, and nearly every test
    makes one of each; in this process it runs at the lowest cost (still argon2id). Servers the
    tests start as processes keep the real cost."""
    real = staff_store._hasher
    staff_store._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    staff_store._hasher = real


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), port=free_port(), persistent=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres | None]:
    try:
        server = Postgres()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            raise  # CI installs PostgreSQL; its absence there is a failure, not a skip
        pytest.skip(str(exc))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    in_thread(lambda: upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


def in_thread(fn: Callable[[], T]) -> T:
    """Run blocking set-up (which may start its own event loop) from inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@pytest.fixture(scope="session")
def postgres_template(postgres: Postgres) -> str:
    async def make() -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=postgres.port, user="postgres", database="postgres"
        )
        await conn.execute("CREATE DATABASE polls_template")
        await conn.close()

    in_thread(lambda: asyncio.run(make()))
    in_thread(lambda: upgrade(postgres.url("polls_template")))
    return "polls_template"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """A fresh, migrated database for one test: each test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "polls.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: Postgres = request.getfixturevalue("postgres")
    template: str = request.getfixturevalue("postgres_template")
    name = f"polls_test_{os.getpid()}_{next(_counter)}"
    conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="postgres", database="postgres")
    # FILE_COPY: with fsync off it is a plain copy, several times quicker than WAL_LOG here.
    await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    await conn.close()
    yield server.url(name)
    conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="postgres", database="postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server (aiosmtpd) on a free port, keeping what it receives."""
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def settings(database_url: str, redis_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_server.url,
        secret_keys=(SECRET,),
        data_dir=tmp_path,
        scheduler_interval=0.2,
        ballot_key=BALLOT_KEY,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine)() as session:
        yield session
    await engine.dispose()


@pytest.fixture
async def admin(settings: Settings) -> int:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as session:
        staff = await create_staff(
            session,
            email=ADMIN_EMAIL,
            name="Ada Admin",
            password=ADMIN_PASSWORD,
            site_admin=True,
            actor="test",
        )
        staff_id = staff.id
    await engine.dispose()
    return staff_id


@pytest.fixture
async def client(settings: Settings, redis: Redis) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to a fully started app (lifespan run) on real Redis and database."""
    app = create_app(settings, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def sign_in(http: httpx.AsyncClient, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
    """Sign in through the API; later calls carry the cookie and the CSRF header."""
    response = await http.post("/api/session", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    http.headers["X-CSRF-Token"] = token
    return token


@pytest.fixture
async def officer(client: httpx.AsyncClient, admin: int) -> httpx.AsyncClient:
    """The client, signed in as a site admin."""
    await sign_in(client)
    return client


async def count(db: AsyncSession, model: type) -> int:
    """Rows in a table, read afresh (the read transaction ends, so the next count sees new writes)."""
    n = int((await db.execute(select(func.count()).select_from(model))).scalar_one())
    await db.rollback()
    return n


@pytest.fixture
async def live_server(settings: Settings, redis: Redis) -> AsyncIterator[str]:
    """The app under a real uvicorn server in this process: for websockets and real HTTP."""
    async with in_this_process(create_app(settings, run_scheduler=False)) as address:
        yield address
