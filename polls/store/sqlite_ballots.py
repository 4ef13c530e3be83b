"""A batch's transaction on a SQLite file, run whole in a thread of its own.

Through the async driver a batch took a dozen hand-overs between the event loop and the
driver's thread, each with SQLAlchemy's async machinery around it: about 5 ms of the event
loop's time per batch, whatever its size, while the requests of the next batch waited. Here
the event loop hands the batch over once and gets the outcome back once; sqlite3 lets go of
the GIL while SQLite works, so the loop serves requests meanwhile.

The rules are the same functions the SQLAlchemy path uses (polls.store.ballots.admit and
spent); only the statements are written out. BEGIN IMMEDIATE takes the database's write lock
first, so a poll cannot close, nor a code be revoked, half-way through a batch.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby

from polls.store.ballots import BROWSER, BatchOutcome, CodeFacts, Vote, admit, spent
from polls.store.db import configure_sqlite

# json_each turns one parameter holding a JSON list into rows: one statement, whatever the batch size.
_POLL_STATUSES = "SELECT id, status FROM polls WHERE id IN (SELECT value FROM json_each(?))"
_CODE_FACTS = (
    "SELECT c.reference, c.pilot_id, c.area_id, c.revoked, b.kind, b.poll_id, c.voter_key "
    "FROM voter_codes AS c JOIN code_batches AS b ON b.id = c.batch_id "
    "WHERE c.reference IN (SELECT value FROM json_each(?))"
)
# "WHERE true" tells SQLite's parser that ON CONFLICT belongs to the INSERT, not a join.
_INSERT_NULLIFIERS = (
    "INSERT INTO nullifiers (poll_id, value) SELECT ?, value FROM json_each(?) WHERE true "
    "ON CONFLICT DO NOTHING RETURNING value"
)
_INSERT_BALLOT = "INSERT INTO ballots (poll_id, tracker, area_id, channel, answers) VALUES (?, ?, ?, ?, ?)"


class SqliteBallots:
    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ballot-writer")
        self._connection: sqlite3.Connection | None = None  # opened, used and closed in that thread

    async def write(self, votes: list[Vote], key: bytes) -> BatchOutcome:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._write, votes, key)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown()

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            # isolation_level=None: sqlite3 leaves BEGIN and COMMIT to us.
            self._connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            configure_sqlite(self._connection)
            self._connection.execute("PRAGMA cache_size=-65536")
            self._connection.execute("PRAGMA wal_autocheckpoint=10000")
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _write(self, votes: list[Vote], key: bytes) -> BatchOutcome:
        db = self._open()
        db.execute("BEGIN IMMEDIATE")
        try:
            outcome = _transaction(db, votes, key)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return outcome


def _transaction(db: sqlite3.Connection, votes: list[Vote], key: bytes) -> BatchOutcome:
    poll_ids = sorted({v.poll.id for v in votes})
    statuses = {poll_id: status for poll_id, status in db.execute(_POLL_STATUSES, (json.dumps(poll_ids),))}
    references = [v.reference for v in votes if not v.reference.startswith(BROWSER)]
    codes = {
        ref: CodeFacts(pilot_id, area_id, bool(revoked), kind, poll_id, voter_key or ref)
        for ref, pilot_id, area_id, revoked, kind, poll_id, voter_key in (
            db.execute(_CODE_FACTS, (json.dumps(references),)) if references else ()
        )
    }
    live, refused = admit(votes, statuses, codes, key)
    inserted: set[tuple[int, str]] = set()
    for poll_id, group in groupby(sorted(live, key=lambda v: v.poll.id), key=lambda v: v.poll.id):
        values = json.dumps([v.nullifier for v in group])
        inserted.update((poll_id, value) for (value,) in db.execute(_INSERT_NULLIFIERS, (poll_id, values)))
    accepted, already = spent(live, inserted)
    rows = [(v.poll.id, v.tracker, v.area_id, v.channel, json.dumps(v.answers)) for v in accepted]
    random.shuffle(rows)  # insertion order must not mirror the nullifiers' order
    db.executemany(_INSERT_BALLOT, rows)
    return accepted, refused + already
