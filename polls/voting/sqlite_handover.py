"""Ballots on a SQLite file: the app's side of the SQLite ballot writer process.

Each batch is handed over in one frame on the process's stdin and answered in one frame on its
stdout once committed (polls.voting.sqlite_process says why a process and what the frames hold).
The process starts with the first batch, so an app that takes no votes starts none.

If the process ends with batches unanswered (killed, or out of memory), their votes are
answered "could not confirm": each may or may not have been committed just before. The next
batch starts a new process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from polls.domain.eligibility import REFUSALS
from polls.errors import ErrorCode, PollsError
from polls.voting.sqlite_process import frame
from polls.voting.votes import BatchOutcome, Vote

log = logging.getLogger("polls.ballots")

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class WriterGone(Exception):
    """The writer process ended before answering: the batch may or may not have been committed."""


class BatchNotCommitted(Exception):
    """The writer process answered that the batch's transaction failed (rolled back)."""


class SqliteBallots:
    def __init__(self, path: str, key: bytes) -> None:
        self.path = path
        self.key = key
        self._process: asyncio.subprocess.Process | None = None
        self._starting: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._unsent: list[bytes] = []  # frames handed over while the process starts
        # Batches handed to the current run of the process and not yet answered. Each run has its
        # own: a run that ended fails only what it was handed, never the next run's batches.
        self._waiting: _Waiting = {}
        self._last_id = 0
        self.transactions = 0  # the writer process's count of transactions, as last answered

    def submit(self, votes: list[Vote]) -> asyncio.Future[BatchOutcome]:
        """Hand the votes to the writer process now; the future is answered once committed."""
        self._last_id += 1
        answer: asyncio.Future[BatchOutcome] = asyncio.get_running_loop().create_future()
        data = _batch_frame(self._last_id, votes)
        if self._process is None and self._starting is None:  # the first batch, or the last run ended
            self._waiting = {}
            self._starting = asyncio.create_task(self._start(self._waiting), name="sqlite-writer-start")
        self._waiting[self._last_id] = (votes, answer)
        if self._process is not None and self._process.stdin is not None:
            self._process.stdin.write(data)
        else:
            self._unsent.append(data)
        return answer

    async def close(self) -> None:
        """Let the process finish what it was handed, then end (its stdin closes)."""
        if self._starting is not None:
            await self._starting
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            log.error("the SQLite ballot writer did not finish in 30 s: killed")
            process.kill()
        if self._reader is not None:
            await self._reader

    async def _start(self, waiting: _Waiting) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",  # not the working directory on sys.path: only the package, through PYTHONPATH
                "-m",
                "polls.voting.sqlite_process",
                self.path,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
            )
        except BaseException as exc:  # no such interpreter, too many processes, a bad path, cancelled
            self._unsent.clear()  # nothing was handed over
            _fail(waiting, BatchNotCommitted("the ballot writer could not start"))
            if not isinstance(exc, Exception):
                raise  # cancelled: the app is stopping
            log.error("the SQLite ballot writer could not start: %s", exc)
            return
        finally:
            self._starting = None
        assert process.stdin is not None
        process.stdin.write(frame({"key": self.key.hex()}) + b"".join(self._unsent))
        self._unsent.clear()
        self._process = process
        self._reader = asyncio.create_task(self._read(process, waiting), name="sqlite-writer-answers")

    async def _read(self, process: asyncio.subprocess.Process, waiting: _Waiting) -> None:
        assert process.stdout is not None
        try:
            while True:
                head = await process.stdout.readexactly(4)
                message = json.loads(await process.stdout.readexactly(int.from_bytes(head, "big")))
                self._answer(message, waiting)
        except asyncio.IncompleteReadError:
            pass  # the process ended
        except Exception:  # answers it cannot read: end this run, so the next batch starts afresh
            log.exception("unreadable answer from the SQLite ballot writer: stopping it")
            process.kill()
        finally:
            if self._process is process:
                self._process = None
            code = await process.wait()
            if waiting:
                log.error(
                    "the SQLite ballot writer ended (exit code %s) with %d batches unanswered",
                    code,
                    len(waiting),
                )
                _fail(waiting, WriterGone("the ballot writer ended before answering"))

    def _answer(self, message: dict[str, Any], waiting: _Waiting) -> None:
        votes, answer = waiting.pop(message["id"])
        try:
            self.transactions = message["transaction"]
            outcome = _outcome(votes, message)
        except Exception:
            # The batch may have committed: it is told so, and _read ends this run.
            if not answer.done():
                answer.set_exception(WriterGone("the ballot writer's answer could not be read"))
            raise
        if answer.done():
            return
        if isinstance(outcome, BatchNotCommitted):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)


def _outcome(votes: list[Vote], message: dict[str, Any]) -> BatchOutcome | BatchNotCommitted:
    if "error" in message:
        log.error("SQLite ballot batch could not be committed: %s", message["error"])
        return BatchNotCommitted(message["error"])
    accepted: list[Vote] = []
    refused: list[tuple[Vote, PollsError]] = []
    for vote, outcome in zip(votes, message["votes"], strict=True):
        if len(outcome) == 2:
            vote.area_id, vote.channel = outcome
            accepted.append(vote)
        else:
            refusal, code, text = outcome
            refused.append((vote, REFUSALS[refusal](text, code=ErrorCode(code))))
    return accepted, refused


_Waiting = dict[int, tuple[list[Vote], asyncio.Future[BatchOutcome]]]


def _fail(waiting: _Waiting, problem: Exception) -> None:
    batches = list(waiting.values())
    waiting.clear()
    for _, answer in batches:
        if not answer.done():
            answer.set_exception(problem)


def _batch_frame(batch_id: int, votes: list[Vote]) -> bytes:
    polls: dict[int, list[Any]] = {}
    rows = []
    for vote in votes:
        poll = vote.poll
        if poll.id not in polls:
            polls[poll.id] = [poll.pilot_id, sorted(poll.area_ids), vote.assurance.value]
        rows.append([poll.id, vote.credential, vote.unwrap, vote.channel, vote.tracker, vote.answers])
    return frame({"id": batch_id, "polls": polls, "votes": rows})
