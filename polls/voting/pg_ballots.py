"""Ballots on PostgreSQL: one connection of the writer's own, one transaction for whatever waits.

Through the pool, each batch paid for a checkout (its pre-ping a round trip of its own), an ORM
session and SQLAlchemy's statement handling, and batches ran side by side in small
transactions. Here one connection stays checked out and its asyncpg connection runs the batch's
statements (polls.store.ballots_postgresql). Batches handed over while a transaction runs
wait, then go in the next one together (as the SQLite writer process merges them), so the cost
of a durable commit and of each statement is shared by more votes. A connection that fails is
dropped; the next batch opens a new one (checked on checkout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from polls.store import ballots_postgresql
from polls.store.db import Database
from polls.voting.votes import BatchOutcome, Vote

log = logging.getLogger("polls.ballots")

_Waiting = list[tuple[list[Vote], asyncio.Future[BatchOutcome]]]


class PostgresBallots:
    def __init__(self, db: Database, key: bytes) -> None:
        self.db = db
        self.key = key
        self._conn: AsyncConnection | None = None  # checked out of the pool for good
        self._driver: Any = None  # its asyncpg connection, used directly
        self._waiting: _Waiting = []
        self._writing: asyncio.Task[None] | None = None
        self.transactions = 0

    def submit(self, votes: list[Vote]) -> asyncio.Future[BatchOutcome]:
        """Queue the votes for the next transaction; the future is answered once committed."""
        answer: asyncio.Future[BatchOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((votes, answer))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_waiting(), name="ballot-transactions")
        return answer

    async def close(self) -> None:
        if self._writing is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._writing), timeout=10)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _write_waiting(self) -> None:
        while self._waiting:
            batches, self._waiting = self._waiting, []
            votes = [v for batch, _ in batches for v in batch]
            try:
                outcome = await self._transaction(votes)
            except BaseException as exc:
                for _, answer in batches:
                    if not answer.done():
                        answer.set_exception(exc if isinstance(exc, Exception) else ConnectionError())
                if not isinstance(exc, Exception):
                    raise
                continue
            for batch, answer in batches:
                if not answer.done():
                    answer.set_result(_share(batch, outcome))

    async def _transaction(self, votes: list[Vote]) -> BatchOutcome:
        if self._conn is None:
            self._conn = await self.db.engine.connect()
            self._driver = (await self._conn.get_raw_connection()).driver_connection
        try:
            outcome = await ballots_postgresql.write_batch(self._driver, votes, self.key)
        except BaseException:
            conn, self._conn = self._conn, None  # may be broken: a new one for the next batch
            with contextlib.suppress(Exception):
                await conn.invalidate()
            raise
        self.transactions += 1
        return outcome


def _share(batch: list[Vote], outcome: BatchOutcome) -> BatchOutcome:
    """One batch's part of a merged transaction's outcome."""
    mine = {id(v) for v in batch}
    accepted, refused = outcome
    return [v for v in accepted if id(v) in mine], [(v, p) for v, p in refused if id(v) in mine]
