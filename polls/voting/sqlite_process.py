"""The SQLite ballot writer: a process of its own that commits batches of votes to a SQLite file.

polls.voting.sqlite_handover starts it (``python -P -m polls.voting.sqlite_process FILE``) and talks
to it over its stdin and stdout in frames: a 4-byte big-endian length, then that much JSON.

    in, first   {"key": hex}            the ballot key (never on the command line, where ps shows it)
    in, then    {"id": n, "polls": {"<poll id>": [pilot_id, [area_id, ...], assurance]},
                 "votes": [[poll_id, credential, unwrap, channel, tracker, answers], ...]}
    out         {"id": n, "transaction": t, "votes": [outcome, ...]}, one outcome per vote in order:
                [area_id, channel] when accepted, [refusal, code, message] when refused;
                or {"id": n, "transaction": t, "error": name} when the transaction failed

A batch's outcome is sent only once the transaction holding it has committed. Batches that
arrive while a transaction runs are written together in the next one, so each commit (and its
fsync) is shared by everything waiting. The process ends when its stdin closes, after the
batch in hand: when the app stops, and when it dies, so nothing is left behind.

Why a process rather than a thread of the app's: sqlite3 lets go of the GIL around each
statement, and getting it back from a busy event loop took up to the switch interval each
time, so a batch of any size cost milliseconds of waiting; here nothing else wants the GIL.

The statements take their lists as one JSON parameter (json_each) and answer in one row
(json_group_array); a ballot's answers are stored as SQLite writes them out of that parameter
(``value -> 4``: JSON text). BEGIN IMMEDIATE takes the database's write lock first, so a poll cannot
close, nor a code be revoked, half-way through a batch. The rules are polls.domain.eligibility,
the same the SQLAlchemy path applies.

Once no batch has come for QUIET seconds, the process truncates the write-ahead log (a TRUNCATE
checkpoint), so the log does not keep past commits in their order: a storage reader finds at
most the commits of the last moment, never a history of votes.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass
from typing import Any

from polls.domain.eligibility import BROWSER, CodeFacts, admit, spent
from polls.errors import PollsError
from polls.store.sqlite_settings import configure_sqlite

_POLL_STATUSES = (
    "SELECT json_group_array(json_array(id, status)) FROM polls WHERE id IN (SELECT value FROM json_each(?))"
)
_CODE_FACTS = (
    "SELECT json_group_array(json_array(c.short_digest, c.pilot_id, c.area_id, c.revoked, b.kind, "
    "b.poll_id, c.wrapped_secret, c.voter_key)) "
    "FROM voter_codes AS c JOIN code_batches AS b ON b.id = c.batch_id "
    "WHERE c.short_digest IN (SELECT value FROM json_each(?))"
)
_SPENT = (
    "SELECT json_group_array(value) FROM nullifiers "
    "WHERE poll_id = ? AND value IN (SELECT value FROM json_each(?))"
)
_INSERT_NULLIFIERS = (
    "INSERT INTO nullifiers (poll_id, value) SELECT value ->> 0, value ->> 1 FROM json_each(?)"
)
# Seconds without a batch before the log is truncated: a lone vote's commit stays in the log
# this long; under steady load the log is checkpointed as before (wal_autocheckpoint), and cut
# to nothing at the first pause.
QUIET = 0.3

_INSERT_BALLOTS = (
    "INSERT INTO ballots (poll_id, tracker, area_id, channel, answers) "
    "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value -> 4 FROM json_each(?)"
)


def frame(message: object) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode()
    return len(data).to_bytes(4, "big") + data


@dataclass(frozen=True)
class _Poll:
    id: int
    pilot_id: int
    area_ids: frozenset[int]


@dataclass
class _Vote:
    poll: _Poll
    assurance: str
    credential: str
    unwrap: str
    channel: str
    tracker: str
    answers: Any
    nullifier: str = ""
    area_id: int | None = None


@dataclass
class _Batch:
    id: int
    votes: list[_Vote]


def _batch(message: dict[str, Any]) -> _Batch:
    polls = {
        int(poll_id): (_Poll(int(poll_id), pilot_id, frozenset(area_ids)), assurance)
        for poll_id, (pilot_id, area_ids, assurance) in message["polls"].items()
    }
    votes = []
    for poll_id, credential, unwrap, channel, tracker, answers in message["votes"]:
        poll, assurance = polls[poll_id]
        votes.append(_Vote(poll, assurance, credential, unwrap, channel, tracker, answers))
    return _Batch(message["id"], votes)


class _Inbox:
    """Frames from a pipe: wait for the next, or take whatever else has already arrived."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.closed = False

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """At least one frame; none once the pipe has closed, or after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            frames = self._frames()
            if frames or self.closed:
                return frames
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return []
            self._read(timeout=left)

    def arrived(self) -> list[dict[str, Any]]:
        while not self.closed and self._read(timeout=0):
            pass
        return self._frames()

    def _read(self, timeout: float | None) -> bool:
        readable, _, _ = select.select([self.fd], [], [], timeout)
        if not readable:
            return False
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.closed = True
        self.buffer += chunk
        return bool(chunk)

    def _frames(self) -> list[dict[str, Any]]:
        frames = []
        start = 0
        while len(self.buffer) - start >= 4:
            length = int.from_bytes(self.buffer[start : start + 4], "big")
            if len(self.buffer) - start - 4 < length:
                break
            frames.append(json.loads(self.buffer[start + 4 : start + 4 + length]))
            start += 4 + length
        del self.buffer[:start]
        return frames


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _rows(db: sqlite3.Connection, statement: str, values: object) -> list[list[Any]]:
    (found,) = db.execute(statement, (json.dumps(values),)).fetchone()
    rows: list[list[Any]] = json.loads(found)
    return rows


def _transaction(
    db: sqlite3.Connection, votes: list[_Vote], key: bytes
) -> tuple[list[_Vote], list[tuple[_Vote, PollsError]]]:
    """The batch's statements; BEGIN IMMEDIATE has taken the write lock, so nothing changes
    between reading the codes and nullifiers and writing the new ones."""
    poll_ids = sorted({v.poll.id for v in votes})
    statuses = {poll_id: status for poll_id, status in _rows(db, _POLL_STATUSES, poll_ids)}
    digests = [v.credential for v in votes if not v.credential.startswith(BROWSER)]
    codes = {
        digest: CodeFacts(pilot_id, area_id, bool(revoked), kind, poll_id, wrapped, voter_key)
        for digest, pilot_id, area_id, revoked, kind, poll_id, wrapped, voter_key in (
            _rows(db, _CODE_FACTS, digests) if digests else ()
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
    rows = [[v.poll.id, v.tracker, v.area_id, v.channel, v.answers] for v in accepted]
    random.shuffle(rows)  # insertion order must not mirror the nullifiers' order
    if rows:
        db.execute(_INSERT_BALLOTS, (json.dumps(rows),))
    return accepted, refused + spent_before


def _write(db: sqlite3.Connection, batches: list[_Batch], key: bytes, number: int) -> bytes:
    """One transaction for all these batches; their outcome frames, once it has committed."""
    votes = [vote for batch in batches for vote in batch.votes]
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            _, refused = _transaction(db, votes, key)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    except Exception as exc:  # the error's name only: its message can quote the values
        return b"".join(
            frame({"id": b.id, "transaction": number, "error": type(exc).__name__}) for b in batches
        )
    problems = {id(vote): problem for vote, problem in refused}
    out = []
    for batch in batches:
        outcomes: list[list[Any]] = []
        for vote in batch.votes:
            problem = problems.get(id(vote))
            if problem is None:
                outcomes.append([vote.area_id, vote.channel])
            else:
                outcomes.append([type(problem).__name__, problem.code, problem.message])
        out.append(frame({"id": batch.id, "transaction": number, "votes": outcomes}))
    return b"".join(out)


def main(path: str) -> None:
    # Ctrl-C at a terminal and a service manager's stop reach this process too: it ends when the
    # app closes its stdin instead, once the batches the app is waiting on are answered.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    inbox = _Inbox(sys.stdin.buffer.fileno())
    out = sys.stdout.buffer.fileno()
    # isolation_level=None: sqlite3 leaves BEGIN and COMMIT to us.
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        configure_sqlite(db)
        # Each transaction writes a page per vote to each random-keyed B-tree. A 64 MiB cache
        # keeps those trees in memory, and checkpointing every 8,000 WAL pages rather than 1,000
        # copies a page that several transactions changed back into the file once, not each
        # time: about 10% less of this process's CPU per vote in `polls bench votes`.
        db.execute("PRAGMA cache_size=-65536")
        db.execute("PRAGMA wal_autocheckpoint=8000")
        waiting = inbox.wait()
        if not waiting:
            return
        key = bytes.fromhex(waiting.pop(0)["key"])
        _serve(db, inbox, out, waiting, key)
    finally:
        db.close()


def _serve(
    db: sqlite3.Connection, inbox: _Inbox, out: int, waiting: list[dict[str, Any]], key: bytes
) -> None:
    number = 0
    written = False  # commits since the log was last truncated
    while True:
        if not waiting and written:  # truncate the log once nothing has come for QUIET seconds
            waiting = inbox.wait(QUIET)
            if not waiting and not inbox.closed:
                written = not truncate_log(db)
                continue
        waiting += inbox.wait() if not waiting else inbox.arrived()
        if not waiting:
            truncate_log(db)
            return  # stdin closed and every batch answered
        number += 1
        _send(out, _write(db, [_batch(m) for m in waiting], key, number))
        written = True
        waiting = []


def truncate_log(db: sqlite3.Connection) -> bool:
    """Copy the log into the database and cut it to nothing; False when a reader still uses it
    (tried again later: a reader is never waited for, nor is the next batch)."""
    db.execute("PRAGMA busy_timeout=0")
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:  # locked by another writer (an officer's change): later
        busy = 1
    finally:
        db.execute("PRAGMA busy_timeout=30000")
    return not busy


if __name__ == "__main__":
    main(sys.argv[1])
