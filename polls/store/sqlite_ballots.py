"""Ballots on a SQLite file: one thread of the writer's own commits them, batch after batch.

Through the async driver a batch took a dozen hand-overs between the event loop and the
driver's thread, each with SQLAlchemy's async machinery around it: about 5 ms of the event
loop's time per batch, whatever its size, while the requests of the next batch waited. Here
the event loop hands votes over once and gets the outcome back once; the thread starts its
next transaction as soon as one commits, without waiting for the event loop, and sqlite3 lets
go of the GIL while SQLite works, so the loop serves requests meanwhile.

The rules are the same functions the SQLAlchemy path uses (polls.store.ballots.admit and
spent); only the statements are written out. BEGIN IMMEDIATE takes the database's write lock
first, so a poll cannot close, nor a code be revoked, half-way through a batch.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from polls.domain.eligibility import BROWSER, CodeFacts, admit, spent
from polls.store.ballots import BatchOutcome, Vote
from polls.store.db import configure_sqlite

# Every statement takes its list as one JSON parameter (json_each) and answers in one row at
# most (json_group_array): sqlite3 hands the GIL back and forth around each row it steps
# through, and under load each time back can wait for the event loop's thread.
_POLL_STATUSES = (
    "SELECT json_group_array(json_array(id, status)) FROM polls WHERE id IN (SELECT value FROM json_each(?))"
)
_CODE_FACTS = (
    "SELECT json_group_array(json_array("
    "c.reference, c.pilot_id, c.area_id, c.revoked, b.kind, b.poll_id, c.voter_key)) "
    "FROM voter_codes AS c JOIN code_batches AS b ON b.id = c.batch_id "
    "WHERE c.reference IN (SELECT value FROM json_each(?))"
)
_SPENT = (
    "SELECT json_group_array(value) FROM nullifiers "
    "WHERE poll_id = ? AND value IN (SELECT value FROM json_each(?))"
)
_INSERT_NULLIFIERS = (
    "INSERT INTO nullifiers (poll_id, value) SELECT value ->> 0, value ->> 1 FROM json_each(?)"
)
_INSERT_BALLOTS = (
    "INSERT INTO ballots (poll_id, tracker, area_id, channel, answers) "
    "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)"
)


def _rows(db: sqlite3.Connection, statement: str, values: object) -> list[list[Any]]:
    (found,) = db.execute(statement, (json.dumps(values),)).fetchone()
    rows: list[list[Any]] = json.loads(found)
    return rows


@dataclass
class _Handed:
    votes: list[Vote]
    key: bytes
    answer: asyncio.Future[BatchOutcome]


class SqliteBallots:
    """Batches handed over while the thread is busy are written together in its next
    transaction: however the writer's batches come, each commit takes everything waiting."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._waiting: list[_Handed] = []
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="ballot-writer", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit(self, votes: list[Vote], key: bytes) -> asyncio.Future[BatchOutcome]:
        """Hand the votes to the thread now; the future is answered once they are committed."""
        self._loop = asyncio.get_running_loop()
        handed = _Handed(votes, key, self._loop.create_future())
        with self._wake:
            if not self._thread.is_alive():
                self._thread.start()
            self._waiting.append(handed)
            self._wake.notify()
        return handed.answer

    async def close(self) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify()
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        # isolation_level=None: sqlite3 leaves BEGIN and COMMIT to us.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            configure_sqlite(db)
            while True:
                with self._wake:
                    while not self._waiting and not self._closing:
                        self._wake.wait()
                    if not self._waiting:
                        return
                    handed, self._waiting = self._waiting, []
                self._write(db, handed)
        finally:
            db.close()

    def _write(self, db: sqlite3.Connection, handed: list[_Handed]) -> None:
        votes = [vote for h in handed for vote in h.votes]
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                accepted, refused = _transaction(db, votes, handed[0].key)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except Exception as exc:
            self._answer([(h.answer, exc) for h in handed])
            return
        outcomes: list[tuple[asyncio.Future[BatchOutcome], BatchOutcome | Exception]] = []
        for h in handed:
            mine = {id(v) for v in h.votes}
            outcomes.append(
                (
                    h.answer,
                    ([v for v in accepted if id(v) in mine], [(v, p) for v, p in refused if id(v) in mine]),
                )
            )
        self._answer(outcomes)

    def _answer(self, outcomes: list[tuple[asyncio.Future[BatchOutcome], BatchOutcome | Exception]]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(_resolve, outcomes)


def _resolve(outcomes: list[tuple[asyncio.Future[BatchOutcome], BatchOutcome | Exception]]) -> None:
    """On the event loop: answer each hand-over of the transaction."""
    for answer, outcome in outcomes:
        if answer.done():
            continue
        if isinstance(outcome, Exception):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)


def _transaction(db: sqlite3.Connection, votes: list[Vote], key: bytes) -> BatchOutcome:
    """The batch's statements; BEGIN IMMEDIATE has taken the write lock, so nothing changes
    between reading the codes and nullifiers and writing the new ones."""
    poll_ids = sorted({v.poll.id for v in votes})
    statuses = {poll_id: status for poll_id, status in _rows(db, _POLL_STATUSES, poll_ids)}
    references = [v.reference for v in votes if not v.reference.startswith(BROWSER)]
    codes = {
        ref: CodeFacts(pilot_id, area_id, bool(revoked), kind, poll_id, voter_key or ref)
        for ref, pilot_id, area_id, revoked, kind, poll_id, voter_key in (
            _rows(db, _CODE_FACTS, references) if references else ()
        )
    }
    live, refused = admit(votes, statuses, codes, key)
    wanted = sorted((v.poll.id, v.nullifier) for v in live)
    already: set[tuple[int, str]] = set()
    for poll_id in {poll_id for poll_id, _ in wanted}:
        values = [value for p, value in wanted if p == poll_id]
        (found,) = db.execute(_SPENT, (poll_id, json.dumps(values))).fetchone()
        already.update((poll_id, value) for value in json.loads(found))
    new = [pair for pair in wanted if pair not in already]
    if new:
        db.execute(_INSERT_NULLIFIERS, (json.dumps(new),))
    accepted, spent_before = spent(live, set(new))
    rows = [[v.poll.id, v.tracker, v.area_id, v.channel, json.dumps(v.answers)] for v in accepted]
    random.shuffle(rows)  # insertion order must not mirror the nullifiers' order
    if rows:
        db.execute(_INSERT_BALLOTS, (json.dumps(rows),))
    return accepted, refused + spent_before
