"""The app's side of the SQLite writer process when the process misbehaves: an answer it cannot
read, or a process that cannot start. No batch may be left waiting for ever, and the next
batch must be answered by a fresh process. A stand-in writer plays the misbehaving process."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from polls.domain.ballots import PollDef
from polls.domain.polls import Assurance
from polls.voting import sqlite_handover
from polls.voting.sqlite_handover import BatchNotCommitted, SqliteBallots, WriterGone
from polls.voting.votes import Vote
from polls.voting.writer import BallotWriter

# Speaks the writer's frames. Its first run answers a batch with no outcomes at all (an answer
# the app cannot use); every later run accepts every vote.
STAND_IN = """
import json, os, sys
marker = sys.argv[1]
first_run = not os.path.exists(marker)
open(marker, "a").close()
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
def read():
    head = stdin.read(4)
    return json.loads(stdin.read(int.from_bytes(head, "big"))) if len(head) == 4 else None
read()  # the ballot key
while (batch := read()) is not None:
    outcomes = [] if first_run else [[None, "online"] for _ in batch["votes"]]
    data = json.dumps({"id": batch["id"], "transaction": 1, "votes": outcomes}).encode()
    stdout.write(len(data).to_bytes(4, "big") + data)
    stdout.flush()
"""

POLL = PollDef(id=1, pilot_id=1, area_ids=frozenset(), questions=())


def _vote() -> Vote:
    return Vote(
        poll=POLL,
        assurance=Assurance.OPEN,
        credential="browser:x",
        unwrap="",
        answers={},
        channel="online",
        fast_path_key=b"spent:1:x",
        spent_until=0,
    )


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Exception]:
    """Start the stand-in instead of the real writer; raise the listed errors first, one a start."""
    script = tmp_path / "writer.py"
    script.write_text(STAND_IN)
    marker = tmp_path / "started-once"
    failures: list[Exception] = []
    real = asyncio.create_subprocess_exec

    async def start(*args: Any, **options: Any) -> asyncio.subprocess.Process:
        if failures:
            raise failures.pop(0)
        return await real(sys.executable, str(script), str(marker), **options)

    monkeypatch.setattr(sqlite_handover.asyncio, "create_subprocess_exec", start)
    return failures


async def test_a_batch_whose_answer_cannot_be_read_is_told_unconfirmed_and_the_next_gets_a_new_process(
    stand_in: list[Exception], tmp_path: Path
) -> None:
    store = SqliteBallots(str(tmp_path / "x.sqlite3"), b"k" * 32)
    try:
        with pytest.raises(WriterGone):
            await asyncio.wait_for(store.submit([_vote()]), timeout=10)
        accepted, refused = await asyncio.wait_for(store.submit([_vote(), _vote()]), timeout=10)
        assert len(accepted) == 2 and refused == []
    finally:
        await store.close()


@pytest.mark.parametrize("problem", [OSError("no such file"), ValueError("embedded null byte")])
async def test_a_process_that_cannot_start_fails_its_batches_and_leaves_nothing_for_the_next(
    stand_in: list[Exception], tmp_path: Path, problem: Exception
) -> None:
    (tmp_path / "started-once").touch()  # the stand-in answers properly from its first run
    stand_in.append(problem)
    store = SqliteBallots(str(tmp_path / "x.sqlite3"), b"k" * 32)
    try:
        first = store.submit([_vote()])
        second = store.submit([_vote()])  # handed over while the start is still failing
        for batch in (first, second):
            with pytest.raises(BatchNotCommitted):
                await asyncio.wait_for(batch, timeout=10)
        # No frame of the failed start is sent to the next process.
        accepted, refused = await asyncio.wait_for(store.submit([_vote()]), timeout=10)
        assert len(accepted) == 1 and refused == []
    finally:
        await store.close()


async def test_a_rebuild_that_did_not_happen_is_asked_for_again_when_an_update_of_its_own_failed() -> None:
    answers: list[dict[int, int] | None] = [None, {1: 1}, None]
    calls = 0

    async def rebuild() -> dict[int, int] | None:
        nonlocal calls
        calls += 1
        return answers.pop(0)

    writer = BallotWriter(db=None, on_rebuild=rebuild)  # type: ignore[arg-type]
    writer._rebuild_due = writer._rebuild_here = True  # this instance's increments may be missing
    await writer._rebuild()  # another instance held the rebuild lock
    assert writer._rebuild_due
    await writer._rebuild()
    assert not writer._rebuild_due and calls == 2
    writer._rebuild_due = True  # its increments wait on the side list, which any rebuild merges
    await writer._rebuild()  # another instance's rebuild
    assert not writer._rebuild_due and calls == 3
