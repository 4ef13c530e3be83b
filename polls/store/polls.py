"""Polls and their questions: drafting, reordering and moving through the lifecycle."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from polls.domain import polls as lifecycle
from polls.domain.access import Actor, Permission
from polls.domain.polls import NewPollSpec, PollFacts, PollSpec, PollStatus
from polls.domain.questions import QuestionSpec
from polls.domain.translations import PollTranslation, check_ids
from polls.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from polls.store import audit
from polls.store.models import Area, Option, Poll, Question
from polls.store.pilots import get_pilot

_LOAD = (selectinload(Poll.areas), selectinload(Poll.questions).selectinload(Question.options))


def question_snapshot(question: Question) -> dict[str, Any]:
    return {
        "id": question.id,
        "position": question.position,
        "kind": question.kind,
        "title": question.title,
        "help_text": question.help_text,
        "settings": dict(question.settings),
        "options": [
            {"id": o.id, "label": o.label, "description": o.description, "cost": o.cost}
            for o in question.options
        ],
    }


def poll_snapshot(poll: Poll, *, with_questions: bool = True) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "id": poll.id,
        "pilot_id": poll.pilot_id,
        "title": poll.title,
        "description": poll.description,
        "status": poll.status,
        "area_ids": [a.id for a in poll.areas],
        "opens_at": poll.opens_at.isoformat() if poll.opens_at else None,
        "closes_at": poll.closes_at.isoformat() if poll.closes_at else None,
        "results_visibility": poll.results_visibility,
        "assurance": poll.assurance,
        "ballot_file_layout": poll.ballot_file_layout,
    }
    if with_questions:
        snap["questions"] = [question_snapshot(q) for q in poll.questions]
    return snap


def facts(poll: Poll) -> PollFacts:
    return PollFacts(
        status=PollStatus(poll.status),
        question_count=len(poll.questions),
        opens_at=poll.opens_at,
        closes_at=poll.closes_at,
    )


async def list_polls(session: AsyncSession, pilot_id: int) -> list[Poll]:
    query = (
        select(Poll)
        .where(Poll.pilot_id == pilot_id)
        .options(*_LOAD)
        .order_by(Poll.created_at.desc(), Poll.id.desc())
    )
    return list((await session.scalars(query)).all())


async def get_poll(
    session: AsyncSession,
    actor: Actor | None,
    poll_id: int,
    permission: Permission,
    *,
    lock: bool = False,
) -> Poll:
    """The poll, once ``actor`` may act on it (None is the scheduler). ``lock`` holds its row
    until commit, so two instances or two officers cannot both move or edit it at once."""
    query = select(Poll).where(Poll.id == poll_id).options(*_LOAD)
    if lock:
        query = query.with_for_update(of=Poll)
    poll = (await session.execute(query)).scalar_one_or_none()
    if poll is None or (actor is not None and not actor.can(Permission.VIEW_PILOT, poll.pilot_id)):
        raise NotFound("There is no such poll", code=ErrorCode.POLL_NOT_FOUND)
    if actor is not None:
        actor.require(permission, poll.pilot_id)
    return poll


async def _editable_poll(session: AsyncSession, actor: Actor, poll_id: int) -> Poll:
    poll = await get_poll(session, actor, poll_id, Permission.MANAGE_PILOT, lock=True)
    if not lifecycle.is_editable(PollStatus(poll.status)):
        raise Conflict(
            f"This poll is {lifecycle.STATUS_LABELS[PollStatus(poll.status)].lower()}: only draft polls "
            "can be changed (move a scheduled poll back to draft first)",
            code=ErrorCode.POLL_NOT_EDITABLE,
        )
    return poll


async def _areas(session: AsyncSession, pilot_id: int, area_ids: list[int]) -> list[Area]:
    if not area_ids:
        return []
    found = (
        await session.scalars(select(Area).where(Area.pilot_id == pilot_id, Area.id.in_(area_ids)))
    ).all()
    missing = sorted(set(area_ids) - {a.id for a in found})
    if missing:
        raise ValidationFailed.one("area_ids", f"No such area in this pilot: {', '.join(map(str, missing))}")
    return list(found)


def _apply_spec(poll: Poll, spec: PollSpec, areas: list[Area]) -> None:
    poll.title = spec.title
    poll.description = spec.description
    poll.opens_at = spec.opens_at
    poll.closes_at = spec.closes_at
    poll.results_visibility = spec.results_visibility.value
    poll.assurance = spec.assurance.value
    poll.ballot_file_layout = spec.ballot_file_layout.value
    poll.areas = areas


def _fill_question(question: Question, spec: QuestionSpec) -> None:
    question.kind = spec.kind.value
    question.title = spec.title
    question.help_text = spec.help_text
    question.settings = spec.settings()
    question.options = [
        Option(position=i, label=o.label, description=o.description, cost=o.cost)
        for i, o in enumerate(spec.options)
    ]


async def create_poll(session: AsyncSession, actor: Actor, pilot_id: int, spec: NewPollSpec) -> Poll:
    await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    areas = await _areas(session, pilot_id, spec.area_ids)
    poll = Poll(pilot_id=pilot_id, status=PollStatus.DRAFT.value, questions=[])
    _apply_spec(poll, spec, areas)
    for position, q in enumerate(spec.questions):
        question = Question(position=position)
        _fill_question(question, q)
        poll.questions.append(question)
    session.add(poll)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="poll.create",
        target=f"poll:{poll.id}",
        pilot_id=pilot_id,
        after=poll_snapshot(poll),
    )
    return poll


async def update_poll(session: AsyncSession, actor: Actor, poll_id: int, spec: PollSpec) -> Poll:
    poll = await _editable_poll(session, actor, poll_id)
    before = poll_snapshot(poll, with_questions=False)
    _apply_spec(poll, spec, await _areas(session, poll.pilot_id, spec.area_ids))
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="poll.update",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        before=before,
        after=poll_snapshot(poll, with_questions=False),
    )
    return poll


def find_question(poll: Poll, question_id: int) -> Question:
    for question in poll.questions:
        if question.id == question_id:
            return question
    raise NotFound("There is no such question in this poll", code=ErrorCode.QUESTION_NOT_FOUND)


def _renumber(poll: Poll) -> None:
    for position, question in enumerate(poll.questions):
        question.position = position


async def add_question(session: AsyncSession, actor: Actor, poll_id: int, spec: QuestionSpec) -> Question:
    poll = await _editable_poll(session, actor, poll_id)
    if len(poll.questions) >= 100:
        raise Conflict("A poll can have at most 100 questions", code=ErrorCode.TOO_MANY_QUESTIONS)
    question = Question(position=len(poll.questions))
    _fill_question(question, spec)
    poll.questions.append(question)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="question.create",
        target=f"question:{question.id}",
        pilot_id=poll.pilot_id,
        after=question_snapshot(question),
    )
    return question


async def update_question(
    session: AsyncSession, actor: Actor, poll_id: int, question_id: int, spec: QuestionSpec
) -> Question:
    poll = await _editable_poll(session, actor, poll_id)
    question = find_question(poll, question_id)
    before = question_snapshot(question)
    _fill_question(question, spec)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="question.update",
        target=f"question:{question.id}",
        pilot_id=poll.pilot_id,
        before=before,
        after=question_snapshot(question),
    )
    return question


async def delete_question(session: AsyncSession, actor: Actor, poll_id: int, question_id: int) -> None:
    poll = await _editable_poll(session, actor, poll_id)
    question = find_question(poll, question_id)
    before = question_snapshot(question)
    poll.questions.remove(question)
    _renumber(poll)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="question.delete",
        target=f"question:{question_id}",
        pilot_id=poll.pilot_id,
        before=before,
    )


async def reorder_questions(
    session: AsyncSession, actor: Actor, poll_id: int, question_ids: list[int]
) -> Poll:
    poll = await _editable_poll(session, actor, poll_id)
    current = [q.id for q in poll.questions]
    if sorted(question_ids) != sorted(current):
        raise ValidationFailed.one("question_ids", "List every question of the poll exactly once")
    by_id = {q.id: q for q in poll.questions}
    poll.questions = [by_id[i] for i in question_ids]
    _renumber(poll)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="question.reorder",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        before=current,
        after=question_ids,
    )
    return poll


async def move_question(
    session: AsyncSession, actor: Actor, poll_id: int, question_id: int, offset: int
) -> Poll:
    """Move a question up (-1) or down (+1): what the no-JavaScript page buttons do."""
    poll = await get_poll(session, actor, poll_id, Permission.MANAGE_PILOT)
    ids = [q.id for q in poll.questions]
    find_question(poll, question_id)
    at = ids.index(question_id)
    to = max(0, min(len(ids) - 1, at + offset))
    ids.insert(to, ids.pop(at))
    return await reorder_questions(session, actor, poll_id, ids)


def translation_snapshot(poll: Poll, language: str) -> dict[str, Any]:
    return {
        "language": language,
        "title": (poll.translations or {}).get(language, {}).get("title", ""),
        "description": (poll.translations or {}).get(language, {}).get("description", ""),
        "questions": {
            str(q.id): {
                **(q.translations or {}).get(language, {}),
                "options": {
                    str(o.id): (o.translations or {}).get(language, {}).get("label", "") for o in q.options
                },
            }
            for q in poll.questions
        },
    }


async def set_translation(
    session: AsyncSession, actor: Actor, poll_id: int, language: str, spec: PollTranslation
) -> Poll:
    """Replace the poll's texts in one of the pilot's other languages (drafts only, like all content)."""
    poll = await _editable_poll(session, actor, poll_id)
    pilot = await get_pilot(session, actor, poll.pilot_id, Permission.MANAGE_PILOT)
    if language not in pilot.languages[1:]:
        offered = ", ".join(pilot.languages[1:]) or "none"
        raise ValidationFailed.one(
            "language", f"Translations are for the pilot's other languages ({offered}), not '{language}'"
        )
    check_ids(spec, {q.id: [o.id for o in q.options] for q in poll.questions})
    before = translation_snapshot(poll, language)
    poll.translations = {
        **(poll.translations or {}),
        language: {"title": spec.title, "description": spec.description},
    }
    for question in poll.questions:
        text = spec.questions.get(question.id)
        mine = (
            {
                "title": text.title,
                "help_text": text.help_text,
                "min_label": text.min_label,
                "max_label": text.max_label,
            }
            if text
            else {}
        )
        question.translations = {**(question.translations or {}), language: mine}
        for option in question.options:
            label = text.options.get(option.id, "") if text else ""
            option.translations = {**(option.translations or {}), language: {"label": label}}
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="poll.translate",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        before=before,
        after=translation_snapshot(poll, language),
    )
    return poll
