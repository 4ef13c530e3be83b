"""The group-commit ballot writer: concurrent votes share one durable transaction.

A vote is acknowledged only after the transaction holding its ballot has committed. Votes
that arrive together share one transaction, so the cost of a durable commit is paid once per
batch, not once per vote. Before the batch reaches the database, Redis (the fast path) refuses
an obvious second use of a code in one call (polls.voting.claims); the database's nullifiers
decide in the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

from polls.domain.ballots import new_tracker
from polls.domain.eligibility import ALREADY_USED
from polls.errors import AlreadyVoted, ServiceUnavailable
from polls.metrics import BATCH_COMMIT_SECONDS, BATCH_SIZE, TALLY_LAG_SECONDS
from polls.store.ballots import write_batch
from polls.store.codes import ballot_key
from polls.store.db import Database, sqlite_file
from polls.voting.claims import Claims
from polls.voting.pg_ballots import PostgresBallots
from polls.voting.sqlite_handover import SqliteBallots, WriterGone
from polls.voting.votes import BatchOutcome, Receipt, Vote

log = logging.getLogger("polls.ballots")

UNAVAILABLE = "Your vote could not be saved just now. It was not counted; please try again."
UNCONFIRMED = (
    "We could not confirm that your vote was saved. Please try again: if it was, you will be told "
    "that your code has already been used."
)


class BallotStore(Protocol):
    def submit(self, votes: list[Vote]) -> Awaitable[BatchOutcome]:
        """Start the batch's transaction at once; the result is awaited later."""
        ...

    async def close(self) -> None: ...


class SqlAlchemyBallots:
    """A batch's transaction through a session: used for in-memory SQLite."""

    def __init__(self, db: Database, key: bytes) -> None:
        self.db = db
        self.key = key

    async def close(self) -> None:
        """Nothing of its own to close: the engine is the app's."""

    def submit(self, votes: list[Vote]) -> asyncio.Task[BatchOutcome]:
        """Start the batch's transaction now (polls.store.ballots.write_batch says why two may run
        at once)."""
        return asyncio.ensure_future(write_batch(self.db, votes, self.key))


def _settle(vote: Vote, outcome: Receipt | BaseException) -> None:
    """Answer a waiting vote once; a request that went away (cancelled) is simply skipped."""
    if vote.done.done():
        return
    if isinstance(outcome, BaseException):
        vote.done.set_exception(outcome)
    else:
        vote.done.set_result(outcome)


def _answer_late(vote: Vote) -> None:
    # Not "it was not counted": a vote already handed to the database may still commit.
    _settle(vote, ServiceUnavailable(UNCONFIRMED))


@dataclass
class _Batch:
    votes: list[Vote]  # as taken from the queue
    claimed: list[Vote] = field(default_factory=list)  # holding a fast-path claim
    writing: Awaitable[BatchOutcome] | None = None  # its transaction, once started
    started: float = 0.0  # when its transaction started (time.perf_counter)


@dataclass
class _Answered:
    batch: _Batch
    accepted: list[Vote] = field(default_factory=list)  # committed: to count
    at: float = 0.0  # when its votes were answered (time.perf_counter)
    spent: list[Vote] = field(default_factory=list)  # codes now used: keep their claims


class BallotWriter:
    """Collects votes from concurrent requests and commits them in batches.

    Three tasks, so neither the database nor an answer waits for anything it does not need:
    one takes batches, claims them in Redis and starts their transaction (a SQLite file writes
    them one after another in its own process, merging what waits); one answers each batch's votes,
    in order, as soon as it committed; one, in the same order, settles the claims and calls
    ``on_commit`` for whatever batches were answered meanwhile. ``on_commit`` (the live tallies)
    answers False when its counts must be rebuilt; the rebuild (``on_rebuild``) then runs in the
    background while voting goes on (polls.live.rebuild says why it counts every committed ballot
    exactly once). When it answers None another instance is rebuilding, which covers this one's
    increments too, unless an update failed here: then it is tried again after the next batch,
    as after a failure. Its failure never loses a vote. A fourth task answers any vote still
    waiting ``answer_within`` seconds after it came.
    """

    def __init__(
        self,
        db: Database,
        *,
        redis: Redis | None = None,
        max_batch: int = 500,
        on_commit: Callable[[list[Vote]], Awaitable[bool]] | None = None,
        on_rebuild: Callable[[], Awaitable[object]] | None = None,
        answer_within: float = 30.0,
    ) -> None:
        self.db = db
        self.max_batch = max_batch
        self.on_commit = on_commit
        self.on_rebuild = on_rebuild
        self.answer_within = answer_within
        self.queue: asyncio.Queue[Vote] = asyncio.Queue()
        # Batches started and not yet answered: while one is answered, the next is being written.
        # Each counts as unfinished (join) until its claims are settled and its votes counted.
        self._in_flight: asyncio.Queue[_Batch] = asyncio.Queue(maxsize=4)
        self._answered: asyncio.Queue[_Answered] = asyncio.Queue()
        self._rebuild_due = False  # the live counts must be rebuilt
        self._rebuild_here = False  # ... by this instance: an update of its own may be missing
        self._rebuilding: asyncio.Task[None] | None = None
        self.key: bytes | None = None
        self.store: BallotStore | None = None  # chosen at start, once the ballot key is known
        self.claims = Claims(redis) if redis is not None else None
        self._tasks: list[asyncio.Task[None]] = []
        self._unanswered: dict[int, Vote] = {}  # cast and not yet answered, by id
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()  # asking for it costs a system call each time
        async with self.db() as session:
            self.key = await ballot_key(session)
        # A SQLite file is written by a process of its own, one hand-over per batch; PostgreSQL on
        # a connection of the writer's own; anything else through a session per batch.
        path = sqlite_file(self.db.engine.url)
        if path:
            self.store = SqliteBallots(path, self.key)
        elif self.db.engine.dialect.name == "postgresql":
            self.store = PostgresBallots(self.db, self.key)
        else:
            self.store = SqlAlchemyBallots(self.db, self.key)
        if self.claims is not None:  # alive before the first claim names this instance
            await self.claims.beat()
            self._tasks.append(asyncio.create_task(self.claims.beat_forever(), name="claims-heartbeat"))
        self._tasks += [
            asyncio.create_task(self._take_and_start(), name="ballot-writer"),
            asyncio.create_task(self._answer(), name="ballot-answers"),
            asyncio.create_task(self._count(), name="ballot-counts"),
            asyncio.create_task(self._answer_late_votes(), name="ballot-late-answers"),
        ]

    @property
    def alive(self) -> bool:
        """Started and none of its tasks has ended: a dead writer would leave every vote waiting."""
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def stop(self) -> None:
        if not self._tasks:
            return
        # Finish the votes already queued (their requests are waiting for an answer) first.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), timeout=10)
            await asyncio.wait_for(self._in_flight.join(), timeout=5)
        tasks = [*self._tasks, *([self._rebuilding] if self._rebuilding else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.store is not None:
            await self.store.close()
        if self.claims is not None:
            await self.claims.retire()

    async def cast(self, vote: Vote) -> Receipt:
        assert self._loop is not None, "writer not started"
        vote.tracker = new_tracker(vote.poll.id, vote.answers)
        vote.done = self._loop.create_future()
        # The writer answers every vote it takes; _answer_late_votes answers one it somehow never
        # reaches (one sweep a second: a timer a vote cost each vote over a microsecond).
        vote.answer_by = self._loop.time() + self.answer_within
        self._unanswered[id(vote)] = vote
        self.queue.put_nowait(vote)
        try:
            return await vote.done
        finally:
            del self._unanswered[id(vote)]

    async def _answer_late_votes(self) -> None:
        assert self._loop is not None, "writer not started"
        while True:
            await asyncio.sleep(min(1.0, self.answer_within / 4))
            now = self._loop.time()
            for vote in [v for v in self._unanswered.values() if v.answer_by <= now]:
                _answer_late(vote)

    async def write_aside(self, write: Callable[[], Awaitable[list[Vote]]]) -> list[Vote]:
        """Commit ballots that come by another way (confirmed paper ballots), then count them live."""
        written = await write()
        await self._add_to_tallies(written)
        return written

    async def _take_and_start(self) -> None:
        while True:
            batch = _Batch([await self.queue.get()])
            # No event-loop turn to wait for more: on a busy loop a turn costs every vote in the
            # batch milliseconds. Votes arriving meanwhile go in the next batch, which the SQLite
            # writer merges into its next transaction with whatever else waits.
            while len(batch.votes) < self.max_batch and not self.queue.empty():
                batch.votes.append(self.queue.get_nowait())
            try:
                await self._start(batch)
            except Exception:  # never let one batch stop the writer: every later vote would hang
                log.exception("ballot batch of %d could not be started", len(batch.votes))
                batch.writing = None
            await self._in_flight.put(batch)

    async def _start(self, batch: _Batch) -> None:
        assert self.store is not None, "writer not started"
        # A request that went away before its batch began is not written.
        waiting = [v for v in batch.votes if not v.done.done()]
        waiting = await self._claim(waiting, batch.claimed)
        if waiting:
            batch.started = time.perf_counter()
            batch.writing = self.store.submit(waiting)
            BATCH_SIZE.observe(len(waiting))

    async def _answer(self) -> None:
        while True:
            batch = await self._in_flight.get()
            answered = _Answered(batch)
            try:
                await self._answer_batch(answered)
            except Exception:
                log.exception("ballot batch of %d failed", len(batch.votes))
            finally:
                for vote in batch.votes:  # anything not answered by now is answered 503
                    _settle(vote, ServiceUnavailable(UNAVAILABLE))
                    self.queue.task_done()
                self._answered.put_nowait(answered)

    async def _answer_batch(self, answered: _Answered) -> None:
        batch = answered.batch
        if batch.writing is None:  # refused by the fast path, gone, or it could not be started
            return
        try:
            accepted, refused = await batch.writing
        except WriterGone:  # it may have committed just before it ended
            for vote in batch.votes:
                _settle(vote, ServiceUnavailable(UNCONFIRMED))
            self._rebuild_soon(here=True)  # count whatever it did commit
            return
        except Exception as exc:
            # The error's name only: a database's message can quote the values (nullifiers).
            log.error("ballot batch of %d could not be committed: %s", len(batch.votes), type(exc).__name__)
            return
        BATCH_COMMIT_SECONDS.observe(time.perf_counter() - batch.started)
        for vote, problem in refused:
            _settle(vote, problem)
        for vote in accepted:
            _settle(vote, Receipt(vote.poll.id, vote.tracker))
        answered.accepted, answered.at = accepted, time.perf_counter()
        answered.spent = accepted + [v for v, problem in refused if isinstance(problem, AlreadyVoted)]

    async def _count(self) -> None:
        while True:
            done = [await self._answered.get()]
            while not self._answered.empty():  # batches answered meanwhile: one Redis call each
                done.append(self._answered.get_nowait())
            try:
                await self._release(
                    [v for d in done for v in d.batch.claimed], spent=[v for d in done for v in d.spent]
                )
                accepted = [v for d in done for v in d.accepted]
                await self._add_to_tallies(accepted)
                if accepted:
                    TALLY_LAG_SECONDS.observe(time.perf_counter() - min(d.at for d in done if d.accepted))
            finally:
                for _ in done:
                    self._in_flight.task_done()
            if self._rebuild_due:  # one that could not run (or must run again) earlier
                self._rebuild_soon()

    async def _add_to_tallies(self, accepted: list[Vote]) -> None:
        if not accepted or self.on_commit is None:
            return
        try:
            counted = await self.on_commit(accepted)
        except Exception:  # tallies can be rebuilt from the database; the votes are safe
            log.exception("after-commit hook failed")
            self._rebuild_soon(here=True)
            return
        if not counted:  # waiting on the side list for a rebuild (anyone's) to merge them
            self._rebuild_soon()

    def _rebuild_soon(self, *, here: bool = False) -> None:
        """Start a rebuild in the background unless one is running; ``here``: an update of this
        instance's may be missing, so a rebuild already under way elsewhere may not cover it."""
        if self.on_rebuild is None:
            return
        self._rebuild_due = True
        self._rebuild_here |= here
        if self._rebuilding is None or self._rebuilding.done():
            self._rebuilding = asyncio.create_task(self._rebuild(), name="tally-rebuild")

    async def _rebuild(self) -> None:
        assert self.on_rebuild is not None
        if not self._rebuild_due:
            return
        here, self._rebuild_due, self._rebuild_here = self._rebuild_here, False, False
        try:
            done = await self.on_rebuild()
        except Exception:
            log.exception("live tallies could not be rebuilt")
            done = None
            here = True
        if done is None and here:  # tried again once the next batch is counted
            self._rebuild_due = self._rebuild_here = True

    async def _claim(self, votes: list[Vote], claimed: list[Vote]) -> list[Vote]:
        """Fast path: refuse the votes whose card Redis has already claimed; returns the votes
        left to write (all of them when Redis is down: the database decides)."""
        if self.claims is None or not votes:
            return votes
        answer = await self.claims.claim(votes)
        if answer is None:
            return votes
        fresh, taken = answer
        claimed += fresh
        for vote in taken:
            _settle(vote, AlreadyVoted(ALREADY_USED))
        return fresh

    async def _release(self, claimed: list[Vote], *, spent: list[Vote]) -> None:
        if self.claims is not None:
            await self.claims.settle(claimed, spent=spent)
