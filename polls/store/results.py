"""Official results: counted from the ballots in the database when a poll closes, reviewed by
officers (counting method and the council's response per question), published, and followed up.

The count runs inside the lifecycle transaction that closes the poll, after its row is locked,
so the ballots it reads are final (the ballot writer takes a share lock on the same row) and
with several app instances exactly one counts. Counting again replaces nothing that exists
unless an officer chose another method; every change is audited.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from polls.domain import comment_review, publication
from polls.domain.access import SYSTEM, Actor, Permission
from polls.domain.ballots import PollDef, QuestionDef
from polls.domain.counting import official
from polls.domain.counting.results import as_json
from polls.domain.polls import PollStatus
from polls.domain.publication import FollowUpSpec
from polls.domain.published_ballots import BallotFileLayout, republish, write_published
from polls.domain.questions import QuestionKind
from polls.errors import CountFailed, ErrorCode, NotFound
from polls.store import audit
from polls.store.ballots import poll_definition
from polls.store.models import (
    Area,
    Ballot,
    FollowUp,
    OfficialResult,
    Poll,
    Question,
    QuestionResult,
    utcnow,
)
from polls.store.polls import get_poll

POLL, JURY = "poll", "jury"  # follow-up subject kinds: published polls, reported juries

log = logging.getLogger("polls.results")


def _hashable(answer: Any) -> Any:
    return tuple(answer) if isinstance(answer, list) else answer


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _count_question(
    question: QuestionDef, method: str | None, answers: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    key = str(question.id)
    if method is None:
        return {"method": None, "answered": sum(1 for a in answers if str(a.get(key, "")).strip())}
    tally: Counter[Any] = Counter(_hashable(a[key]) for a in answers if key in a)
    return as_json(official.count(question, tally.items(), method))


async def _ballots(session: AsyncSession, poll_id: int) -> list[tuple[dict[str, Any], int | None, str]]:
    """The poll's ballots, read in parts (a server-side cursor on PostgreSQL) through Core rather
    than the ORM: a million of them take a fraction of the time and memory."""
    query = select(Ballot.answers, Ballot.area_id, Ballot.channel).where(Ballot.poll_id == poll_id)
    connection = await session.connection()
    rows: list[tuple[dict[str, Any], int | None, str]] = []
    result = await connection.stream(query.execution_options(yield_per=10_000))
    async for part in result.partitions():
        rows += [(a, area, channel) for a, area, channel in part]
    return rows


async def _turnout(
    session: AsyncSession, poll: Poll, rows: Sequence[tuple[Any, int | None, str]]
) -> dict[str, Any]:
    areas = poll.areas or list(
        (await session.scalars(select(Area).where(Area.pilot_id == poll.pilot_id).order_by(Area.name))).all()
    )
    by_area = Counter(area for _, area, _ in rows)
    channels = Counter(channel for _, _, channel in rows)
    listed = [{"area_id": a.id, "area": a.name, "ballots": by_area.get(a.id, 0)} for a in areas]
    elsewhere = sum(n for area, n in by_area.items() if area not in {a.id for a in areas})
    if elsewhere:
        listed.append({"area_id": None, "area": "No area recorded", "ballots": elsewhere})
    return {
        "areas": listed,
        "channels": {c: channels.get(c, 0) for c in ("online", "event", "paper")},
    }


def _usual_methods(definition: PollDef) -> dict[int, str | None]:
    """Each question's usual method (None: a comment, read rather than counted)."""
    counted = (q for q in definition.questions if q.kind is not QuestionKind.COMMENT)
    return {q.id: None for q in definition.questions} | {q.id: official.usual_method(q) for q in counted}


def _comments(
    definition: PollDef, rows: Sequence[tuple[dict[str, Any], int | None, str]]
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """The comments to review, out of their ballots: grouped by question, shuffled within each;
    and each one's [area id, channel] beside it, kept apart for the analysis's counts."""
    rng = random.SystemRandom()
    out: list[dict[str, Any]] = []
    origins: list[list[Any]] = []
    for q in definition.questions:
        if q.kind is QuestionKind.COMMENT:
            key = str(q.id)
            found = [(str(a[key]), area, ch) for a, area, ch in rows if str(a.get(key, "")).strip()]
            rng.shuffle(found)
            out += [comment_review.new_comment(q.id, text) for text, _, _ in found]
            origins += [[area, channel] for _, area, channel in found]
    return out, origins


def _file(
    poll: Poll,
    definition: PollDef,
    methods: dict[int, str | None],
    answers: Sequence[dict[str, Any]],
    comments: list[dict[str, Any]],
) -> str:
    counted = {k: v for k, v in methods.items() if v is not None}
    layout = BallotFileLayout(poll.ballot_file_layout)
    shown = comment_review.published(comments)
    return write_published(
        definition, poll.title, counted, answers, random.SystemRandom(), layout=layout, comments=shown
    )


def rewrite_file(poll: Poll, result: OfficialResult, comments_before: int) -> None:
    """Write the stored file again after a change of method or a comment's review."""
    methods = {q.question_id: q.method for q in result.questions if q.method}
    shown = comment_review.published(result.comments)
    text = republish(result.ballot_file, poll_definition(poll), poll.title, methods, comments_before, shown)
    result.ballot_file = text
    result.ballot_file_sha256 = sha256(result.ballot_file)


async def load(session: AsyncSession, poll_id: int) -> OfficialResult | None:
    """The poll's official result with its questions, or None before it has been counted."""
    query = (
        select(OfficialResult)
        .where(OfficialResult.poll_id == poll_id)
        .options(selectinload(OfficialResult.questions))
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def count_official(
    session: AsyncSession, poll: Poll, actor: Actor | None, now: datetime
) -> OfficialResult:
    """Count the closed poll's ballots and store the official result, once: when it exists
    already (another instance, an earlier step), it is returned unchanged. The caller holds
    the poll row's lock."""
    existing = await load(session, poll.id)
    if existing is not None:
        return existing
    definition = poll_definition(poll)
    rows = await _ballots(session, poll.id)
    answers = [a for a, _, _ in rows]
    methods = _usual_methods(definition)
    comments, origins = _comments(definition, rows)
    with _counting(poll.id):
        text = _file(poll, definition, methods, answers, comments)
        counted = {q.id: _count_question(q, methods[q.id], answers) for q in definition.questions}
    result = OfficialResult(
        poll_id=poll.id,
        ballots=len(rows),
        turnout=await _turnout(session, poll, rows),
        ballot_file=text,
        ballot_file_sha256=sha256(text),
        counted_at=now,
        published_at=None,
        comments=comments,
        comment_origins=origins,
        questions=[
            QuestionResult(
                question_id=q.id,
                position=position,
                method=methods[q.id],
                result=counted[q.id],
                response="",
            )
            for position, q in enumerate(definition.questions)
        ],
    )
    session.add(result)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email if actor else SYSTEM,
        action="results.count",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        after=_summary(result),
    )
    return result


def file_ballots(result: OfficialResult, question_id: int) -> list[tuple[Any, int]]:
    """One question's answers in the stored ballot file, with how many gave each (the file was
    written from checked ballots, so its lines are read without checking them again)."""
    key = str(question_id)
    tally: Counter[Any] = Counter()
    for line in result.ballot_file.splitlines()[1:]:
        answer = json.loads(line).get(key) if line else None
        if answer is not None:
            tally[_hashable(answer)] += 1
    return sorted(tally.items(), key=lambda item: json.dumps(item[0]))


def _summary(result: OfficialResult) -> dict[str, Any]:
    return {
        "ballots": result.ballots,
        "ballot_file_sha256": result.ballot_file_sha256,
        "methods": {str(q.question_id): q.method for q in result.questions},
    }


@contextlib.contextmanager
def _counting(poll_id: int) -> Iterator[None]:
    """Counting is pure and tested; should it ever fail on some stored ballot, say so plainly
    (409 count_failed) instead of a server error."""
    try:
        yield
    except Exception as exc:
        log.exception("poll %s: the official count failed", poll_id)
        raise CountFailed(
            "The official results could not be counted; the error is logged for the service team",
        ) from exc


async def after_transition(session: AsyncSession, poll: Poll, actor: Actor | None, now: datetime) -> None:
    """The lifecycle's hook: count at close (the scheduler's or an officer's), make sure a count
    exists before review and publication, and date the publication."""
    status = PollStatus(poll.status)
    if status is PollStatus.CLOSED:
        # A failed count must not keep the poll open (no vote may land after closing); the
        # officer's review counts again and reports the failure.
        with contextlib.suppress(CountFailed):
            await count_official(session, poll, actor, now)
        return
    if status not in (PollStatus.UNDER_REVIEW, PollStatus.PUBLISHED):
        return
    result = await count_official(session, poll, actor, now)
    if status is PollStatus.PUBLISHED:
        comment_review.require_reviewed(result.comments)
        result.published_at = now
        await session.flush()


async def reviewable(session: AsyncSession, actor: Actor, poll_id: int) -> tuple[Poll, OfficialResult]:
    poll = await get_poll(session, actor, poll_id, Permission.MANAGE_PILOT, lock=True)
    publication.require_reviewable(PollStatus(poll.status))
    result = await count_official(session, poll, actor, utcnow())
    return poll, result


def _question(poll: Poll, result: OfficialResult, question_id: int) -> tuple[QuestionDef, QuestionResult]:
    definition = poll_definition(poll).question(question_id)
    stored = next((q for q in result.questions if q.question_id == question_id), None)
    if definition is None or stored is None:
        raise NotFound("There is no such question in this poll", code=ErrorCode.QUESTION_NOT_FOUND)
    return definition, stored


async def set_method(
    session: AsyncSession, actor: Actor, poll_id: int, question_id: int, method: str
) -> OfficialResult:
    """Count one question by another method: its result and the ballot file's header change
    (the ballots in the file, and their order, stay as they are)."""
    poll, result = await reviewable(session, actor, poll_id)
    question, stored = _question(poll, result, question_id)
    publication.check_method(question, method)
    if stored.method == method:
        return result
    before = {"method": stored.method, "ballot_file_sha256": result.ballot_file_sha256}
    answers = [a for a, _, _ in await _ballots(session, poll.id)]
    with _counting(poll.id):
        counted = _count_question(question, method, answers)
    stored.method = method
    stored.result = counted
    rewrite_file(poll, result, len(result.comments))
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="results.method",
        target=f"question:{question_id}",
        pilot_id=poll.pilot_id,
        before=before,
        after={"method": method, "ballot_file_sha256": result.ballot_file_sha256},
    )
    return result


async def set_response(
    session: AsyncSession, actor: Actor, poll_id: int, question_id: int, spec: publication.ResponseSpec
) -> OfficialResult:
    poll, result = await reviewable(session, actor, poll_id)
    _, stored = _question(poll, result, question_id)
    if stored.response == spec.response:
        return result
    before = stored.response
    stored.response = spec.response
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="results.response",
        target=f"question:{question_id}",
        pilot_id=poll.pilot_id,
        before={"response": before},
        after={"response": spec.response},
    )
    return result


# Follow-ups


def follow_up_snapshot(item: FollowUp) -> dict[str, Any]:
    return {
        "id": item.id,
        "subject": f"{item.subject_kind}:{item.subject_id}",
        "title": item.title,
        "body": item.body,
        "milestone_on": item.milestone_on.isoformat(),
        "status": item.status,
        "created_by": item.created_by,
        "created_at": item.created_at.isoformat(),
    }


async def add_follow_up(session: AsyncSession, actor: Actor, poll_id: int, spec: FollowUpSpec) -> FollowUp:
    poll = await get_poll(session, actor, poll_id, Permission.MANAGE_PILOT, lock=True)
    publication.require_published(PollStatus(poll.status))
    return await write_follow_up(session, actor, poll.pilot_id, POLL, poll.id, spec)


async def write_follow_up(
    session: AsyncSession, actor: Actor, pilot_id: int, subject_kind: str, subject_id: int, spec: FollowUpSpec
) -> FollowUp:
    """A follow-up on any subject (POLL or JURY), audited; the caller has checked the subject."""
    item = FollowUp(
        pilot_id=pilot_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        title=spec.title,
        body=spec.body,
        milestone_on=spec.milestone_on,
        status=spec.status.value if spec.status else None,
        created_by=actor.email,
        created_at=utcnow(),
    )
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="follow_up.create",
        target=f"follow_up:{item.id}",
        pilot_id=pilot_id,
        after=follow_up_snapshot(item),
    )
    return item


async def follow_ups(
    session: AsyncSession, subject_kind: str, subject_ids: Sequence[int]
) -> dict[int, list[FollowUp]]:
    """Follow-ups by subject, newest milestone first."""
    if not subject_ids:
        return {}
    query = (
        select(FollowUp)
        .where(FollowUp.subject_kind == subject_kind, FollowUp.subject_id.in_(subject_ids))
        .order_by(FollowUp.milestone_on.desc(), FollowUp.id.desc())
    )
    out: dict[int, list[FollowUp]] = {}
    for item in (await session.scalars(query)).all():
        out.setdefault(item.subject_id, []).append(item)
    return out


@dataclass(frozen=True)
class PilotPolls:
    open: list[Poll]
    published: list[tuple[Poll, OfficialResult]]


async def pilot_polls(session: AsyncSession, pilot_id: int) -> PilotPolls:
    """What the public pilot page lists: open polls, and published ones with their results."""
    query = (
        select(Poll)
        .where(
            Poll.pilot_id == pilot_id,
            Poll.status.in_([PollStatus.OPEN.value, PollStatus.PUBLISHED.value]),
        )
        .options(selectinload(Poll.areas), selectinload(Poll.questions).selectinload(Question.options))
        .order_by(Poll.closes_at.desc(), Poll.id.desc())
    )
    polls = list((await session.scalars(query)).all())
    published_ids = [p.id for p in polls if p.status == PollStatus.PUBLISHED.value]
    results = {}
    if published_ids:
        found = await session.scalars(
            select(OfficialResult)
            .where(OfficialResult.poll_id.in_(published_ids))
            .options(selectinload(OfficialResult.questions))
        )
        results = {r.poll_id: r for r in found.all()}
    return PilotPolls(
        open=[p for p in polls if p.status == PollStatus.OPEN.value],
        published=[(p, results[p.id]) for p in polls if p.id in results],
    )
