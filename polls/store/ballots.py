"""Casting ballots durably: the group-commit writer, the nullifier guard and poll definitions.

A vote is acknowledged only after the transaction holding its ballot has committed. Votes
that arrive together share one transaction (group commit), so the cost of a durable commit
is paid once per batch, not once per vote. Inside the batch, the nullifiers' primary key is
the final guard against a second vote, whatever Redis said.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from polls.domain.ballots import Answers, OptionDef, PollDef, QuestionDef, new_tracker
from polls.domain.polls import Assurance, PollStatus
from polls.domain.questions import QuestionKind
from polls.domain.translations import localise
from polls.errors import Conflict, NotFound, PollsError, ServiceUnavailable
from polls.store.codes import ballot_key
from polls.store.db import Database
from polls.store.models import Ballot, CodeBatch, Nullifier, Poll, Question, VoterCode

log = logging.getLogger("polls.ballots")

# Core tables for the hot path: plain executemany, no ORM bookkeeping per row.
BALLOTS = cast(Table, Ballot.__table__)
NULLIFIERS = cast(Table, Nullifier.__table__)

SPENT_TTL = 24 * 3600  # the fast path only has to outlive retries; the database guards for ever

BROWSER = "browser:"  # references of open-poll voters are a random per-browser id


class AlreadyVoted(Conflict):
    code = "code_already_used"


class PollNotOpen(Conflict):
    code = "poll_not_open"


class CodeNotValid(PollsError):
    status = 403
    code = "code_not_valid"


def nullifier(key: bytes, poll_id: int, reference: str) -> str:
    return hmac.new(key, f"{poll_id}:{reference}".encode(), hashlib.sha256).hexdigest()


def poll_definition(poll: Poll) -> PollDef:
    return PollDef(
        id=poll.id,
        pilot_id=poll.pilot_id,
        area_ids=frozenset(a.id for a in poll.areas),
        questions=tuple(
            QuestionDef(
                id=q.id,
                kind=QuestionKind(q.kind),
                title=q.title,
                settings=dict(q.settings),
                options=tuple(OptionDef(o.id, o.label, o.cost) for o in q.options),
                help_text=q.help_text,
            )
            for q in poll.questions
        ),
    )


def localised_definition(poll: Poll, language: str) -> PollDef:
    """The poll's questions as a resident reading ``language`` sees them."""
    texts: dict[str, Any] = {}
    for question in poll.questions:
        texts[f"q{question.id}"] = question.translations or {}
        for option in question.options:
            texts[f"o{option.id}"] = option.translations or {}
    return localise(poll_definition(poll), texts, language)


async def load_poll(session: AsyncSession, poll_id: int) -> Poll:
    query = (
        select(Poll)
        .where(Poll.id == poll_id)
        .options(selectinload(Poll.areas), selectinload(Poll.questions).selectinload(Question.options))
    )
    poll = (await session.execute(query)).scalar_one_or_none()
    if poll is None:
        raise NotFound("There is no such poll", code="poll_not_found")
    return poll


@dataclass(frozen=True)
class Receipt:
    poll_id: int
    tracker: str


@dataclass
class Vote:
    """One checked ballot waiting for the writer. ``reference`` never reaches the ballots table."""

    poll: PollDef
    assurance: Assurance
    reference: str
    answers: Answers
    channel: str
    nullifier: str = ""
    area_id: int | None = None
    tracker: str = ""
    done: asyncio.Future[Receipt] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class _CodeFacts:
    pilot_id: int
    area_id: int | None
    revoked: bool
    kind: str
    poll_id: int | None
    voter_key: str  # the first card's reference: a replacement card spends the same nullifiers


UNAVAILABLE = "Your vote could not be saved just now. It was not counted; please try again."
CLAIM_TTL = 60  # a claim only has to outlive its batch; it is extended once the ballot commits


def _settle(vote: Vote, outcome: Receipt | BaseException) -> None:
    """Answer a waiting vote once; a request that went away (cancelled) is simply skipped."""
    if vote.done.done():
        return
    if isinstance(outcome, BaseException):
        vote.done.set_exception(outcome)
    else:
        vote.done.set_result(outcome)


class BallotWriter:
    """Collects votes from concurrent requests and commits them in batches.

    ``on_commit`` is called with the accepted votes after each commit, before the next batch
    (live tallies hang off it, and a tally rebuild must not race this instance's own commits);
    its failure never loses a vote.
    """

    def __init__(
        self,
        db: Database,
        *,
        redis: Redis | None = None,
        max_batch: int = 500,
        on_commit: Any = None,
        answer_within: float = 30.0,
    ) -> None:
        self.db = db
        self.redis = redis
        self.max_batch = max_batch
        self.on_commit = on_commit
        self.answer_within = answer_within
        self.queue: asyncio.Queue[Vote] = asyncio.Queue()
        self.key: bytes | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async with self.db() as session:
            self.key = await ballot_key(session)
        self._task = asyncio.create_task(self._run(), name="ballot-writer")

    async def stop(self) -> None:
        if self._task is None:
            return
        # Finish the votes already queued (their requests are waiting for an answer) first.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), timeout=10)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def nullifier_for(self, poll_id: int, voter_key: str) -> str:
        assert self.key is not None, "writer not started"
        return nullifier(self.key, poll_id, voter_key)

    async def cast(self, vote: Vote) -> Receipt:
        vote.tracker = new_tracker(vote.poll.id, vote.answers)
        await self.queue.put(vote)
        try:
            return await asyncio.wait_for(asyncio.shield(vote.done), timeout=self.answer_within)
        except TimeoutError:
            raise ServiceUnavailable(UNAVAILABLE) from None

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            # Let requests already on their way join this batch: one event-loop turn.
            await asyncio.sleep(0)
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self._process(batch)
            except Exception:  # never let one batch stop the writer: every later vote would hang
                log.exception("ballot batch of %d failed", len(batch))
                for vote in batch:
                    _settle(vote, ServiceUnavailable(UNAVAILABLE))
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def _process(self, batch: list[Vote]) -> None:
        claimed: list[Vote] = []
        try:
            accepted = await self._write(batch, claimed)
        except Exception:
            log.error("ballot batch of %d could not be committed", len(batch))  # no parameters logged
            for vote in batch:
                _settle(vote, ServiceUnavailable(UNAVAILABLE))
            await self._release(claimed, accepted=[])
            return
        for vote in accepted:
            _settle(vote, Receipt(vote.poll.id, vote.tracker))
        await self._release(claimed, accepted=accepted)
        if accepted and self.on_commit is not None:
            try:
                await self.on_commit(accepted)
            except Exception:  # tallies can be rebuilt from the database; the votes are safe
                log.exception("after-commit hook failed")

    @staticmethod
    def _spent_key(vote: Vote) -> str:
        return f"spent:{vote.poll.id}:{vote.nullifier}"

    async def _claim(self, votes: list[Vote], claimed: list[Vote]) -> list[Vote]:
        """Fast path: one Redis round trip marks the nullifiers spent (briefly) and refuses any
        already marked; returns the votes left to write. Redis down: the database decides."""
        if self.redis is None or not votes:
            return votes
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for vote in votes:
                    pipe.set(self._spent_key(vote), "1", nx=True, ex=CLAIM_TTL)
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("vote fast path unavailable: %s", exc)
            return votes
        left = []
        for vote, fresh in zip(votes, results, strict=True):
            if fresh:
                claimed.append(vote)
                left.append(vote)
            else:
                _settle(vote, AlreadyVoted("This code has already been used to vote in this poll"))
        return left

    async def _release(self, claimed: list[Vote], *, accepted: list[Vote]) -> None:
        """Claims of committed votes last a day; every other claim is freed at once, so a code
        that did not vote (refused, failed, or its request went away) can try again."""
        if self.redis is None or not claimed:
            return
        kept = {id(v) for v in accepted}
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for vote in claimed:
                    if id(vote) in kept:
                        pipe.expire(self._spent_key(vote), SPENT_TTL)
                    else:
                        pipe.delete(self._spent_key(vote))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("could not settle fast-path claims: %s", exc)

    async def _write(self, batch: list[Vote], claimed: list[Vote]) -> list[Vote]:
        async with self.db.begin() as session:
            live = await self._refuse_ineligible(session, [v for v in batch if not v.done.done()])
            live = _first_of_each_nullifier(live)
            live = await self._claim(live, claimed)
            if not live:
                return []
            taken = await _insert_nullifiers(session, live)
            accepted = []
            for vote in live:
                if vote.nullifier in taken:
                    accepted.append(vote)
                else:
                    _settle(vote, AlreadyVoted("This code has already been used to vote in this poll"))
            rows = [
                {
                    "poll_id": v.poll.id,
                    "area_id": v.area_id,
                    "channel": v.channel,
                    "answers": v.answers,
                    "tracker": v.tracker,
                }
                for v in accepted
            ]
            random.shuffle(rows)  # insertion order must not mirror the nullifiers' order
            if rows:
                await session.execute(insert(BALLOTS), rows)
        return accepted

    async def _refuse_ineligible(self, session: AsyncSession, batch: list[Vote]) -> list[Vote]:
        poll_ids = {v.poll.id for v in batch}
        # FOR SHARE (PostgreSQL): an officer closing the poll waits for this batch, and this
        # batch waits for a close already under way, so no ballot lands in a closed poll.
        locked = select(Poll.id, Poll.status).where(Poll.id.in_(poll_ids)).with_for_update(read=True)
        statuses = dict((await session.execute(locked)).all())
        codes = await _code_facts(session, [v.reference for v in batch], lock=True)
        live = []
        for vote in batch:
            problem = _refusal(vote, statuses.get(vote.poll.id), codes)
            if problem is not None:
                _settle(vote, problem)
                continue
            facts = codes.get(vote.reference)
            vote.nullifier = self.nullifier_for(vote.poll.id, facts.voter_key if facts else vote.reference)
            live.append(vote)
        return live


async def _code_facts(session: AsyncSession, references: list[str], *, lock: bool) -> dict[str, _CodeFacts]:
    wanted = [r for r in references if not r.startswith(BROWSER)]
    if not wanted:
        return {}
    query = (
        select(
            VoterCode.reference,
            VoterCode.pilot_id,
            VoterCode.area_id,
            VoterCode.revoked,
            CodeBatch.kind,
            CodeBatch.poll_id,
            VoterCode.voter_key,
        )
        .join(CodeBatch, CodeBatch.id == VoterCode.batch_id)
        .where(VoterCode.reference.in_(wanted))
    )
    if lock:
        query = query.with_for_update(read=True, of=VoterCode)
    return {
        ref: _CodeFacts(pilot_id, area_id, revoked, kind, poll_id, voter_key or ref)
        for ref, pilot_id, area_id, revoked, kind, poll_id, voter_key in (await session.execute(query)).all()
    }


async def eligibility(
    session: AsyncSession, poll: PollDef, assurance: Assurance, references: list[str]
) -> dict[str, PollsError]:
    """Why each of these codes could not vote in this open poll (the ones that can are absent).

    The same rules the writer applies, checked early: before a resident fills in a ballot, and
    for every row of a paper count before any of it is entered."""
    codes = await _code_facts(session, references, lock=False)
    problems: dict[str, PollsError] = {}
    for reference in references:
        trial = Vote(poll=poll, assurance=assurance, reference=reference, answers={}, channel="online")
        problem = _refusal(trial, PollStatus.OPEN.value, codes)
        if problem is not None:
            problems[reference] = problem
    return problems


def _refusal(vote: Vote, status: str | None, codes: dict[str, _CodeFacts]) -> PollsError | None:
    if status != PollStatus.OPEN.value:
        return PollNotOpen("This poll is not open for voting")
    if vote.reference.startswith(BROWSER):
        if vote.assurance is not Assurance.OPEN:
            return CodeNotValid("This poll needs the code from your poll card")
        return None
    facts = codes.get(vote.reference)
    if facts is None or facts.pilot_id != vote.poll.pilot_id:
        return CodeNotValid("This code is not valid for this poll")
    if facts.revoked:
        return CodeNotValid("This code has been cancelled (reported lost). Use the new code you were sent.",
                            code="code_revoked")  # fmt: skip
    if facts.kind == "event" and facts.poll_id != vote.poll.id:
        return CodeNotValid("This event code is for a different poll")
    if vote.assurance is Assurance.POLL_CARD and facts.kind != "poll_card":
        return CodeNotValid("This poll needs the code from your poll card")
    if vote.poll.area_ids and facts.area_id not in vote.poll.area_ids:
        return CodeNotValid(
            "This poll is for other areas: your code's area is not taking part", code="wrong_area"
        )
    vote.area_id = facts.area_id
    if facts.kind == "event" and vote.channel == "online":
        vote.channel = "event"  # turnout per channel: codes handed out at events count as "event"
    return None


def _first_of_each_nullifier(votes: Sequence[Vote]) -> list[Vote]:
    """Two votes with one code in the same batch: the first wins, the rest are refused."""
    seen: set[tuple[int, str]] = set()
    out = []
    for vote in votes:
        key = (vote.poll.id, vote.nullifier)
        if key in seen:
            _settle(vote, AlreadyVoted("This code has already been used to vote in this poll"))
        else:
            seen.add(key)
            out.append(vote)
    return out


async def _insert_nullifiers(session: AsyncSession, votes: Sequence[Vote]) -> set[str]:
    """Insert the batch's nullifiers, skipping ones already present; return those inserted."""
    rows = [{"poll_id": v.poll.id, "value": v.nullifier} for v in votes]
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # executemany with RETURNING: one cached statement, sent as multi-row batches by SQLAlchemy.
    statement = dialect_insert(NULLIFIERS).on_conflict_do_nothing().returning(NULLIFIERS.c.value)
    result = await session.execute(statement, rows)
    return set(result.scalars().all())
