"""Opening the database: one async engine per app, SQLite tuned for concurrent writers."""

from __future__ import annotations

import contextlib
import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from polls.store.sealing import attach_key
from polls.store.sqlite_settings import configure_sqlite

Sessions = async_sessionmaker[AsyncSession]
Session = AsyncSession  # named here so endpoints can hand their transaction to a helper

# Named here so that code outside store/ can catch database failures without importing SQLAlchemy.
DatabaseError = SQLAlchemyError
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)  # did not answer


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str | URL) -> str | None:
    """The file of a SQLite database URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def open_engine(url: str, *, ballot_key: str | None = None, **kwargs: Any) -> AsyncEngine:
    """An engine; ``ballot_key`` (settings.ballot_key) rides along for polls.store.codes.ballot_key."""
    # Errors must never print the parameters of a failed statement: they would put ballots
    # (and what could tie them to voters) into the logs.
    kwargs.setdefault("hide_parameters", True)
    if ballot_key:
        kwargs["execution_options"] = {**kwargs.get("execution_options", {}), "polls_ballot_key": ballot_key}
    if not is_sqlite(url):
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        return _sealing(create_async_engine(url, **kwargs), ballot_key)
    database = make_url(url).database
    if database and database != ":memory:":
        _make_private(Path(database))
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        configure_sqlite(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers BEGIN IMMEDIATE, taking the write lock up front: two transactions that read
        # then write would otherwise deadlock and one fail with "database is locked". Readers
        # begin deferred, so they never wait for a writer (WAL).
        mode = "IMMEDIATE" if conn.get_execution_options().get("polls_writer") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return _sealing(engine, ballot_key)


def _sealing(engine: AsyncEngine, ballot_key: str | None) -> AsyncEngine:
    """Pool members' personal data is sealed under the ballot key (polls.store.sealing)."""
    if ballot_key:
        attach_key(engine.dialect, ballot_key)
    return engine


def _make_private(path: Path) -> None:
    """The database file exists and is readable by its owner only (0600), like the key files.

    SQLite gives its write-ahead log, shared-memory and journal files the database file's
    permissions, so they follow; any left from an older run are tightened here too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for companion in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        with contextlib.suppress(FileNotFoundError):
            companion.chmod(0o600)


class Database:
    """Sessions for one engine: ``db()`` to read, ``db.begin()`` for a transaction that writes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._read: Sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._write: Sessions = async_sessionmaker(
            engine.execution_options(polls_writer=True), expire_on_commit=False
        )

    def __call__(self) -> AsyncSession:
        return self._read()

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._write.begin()


def sessions_for(engine: AsyncEngine) -> Database:
    return Database(engine)


async def ping(engine: AsyncEngine) -> None:
    """Raises unless the database answers a trivial query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
