"""A poll's live counters counted by the database: one GROUP BY per question, so only counts
reach the app however many ballots there are (reconciliation, rebuilds, `polls tallies check`)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballots import PollDef, tally_of_groups
from polls.domain.questions import QuestionKind
from polls.store.models import Ballot


async def snapshot(session: AsyncSession) -> None:
    """Make the session's reads one snapshot: its counts and its receipts must agree. (SQLite's
    read transaction already is one, from its first read to its end.)"""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def turnout(session: AsyncSession, poll_id: int) -> list[tuple[int | None, str, int]]:
    """Ballots per (area id, channel)."""
    query = (
        select(Ballot.area_id, Ballot.channel, func.count())
        .where(Ballot.poll_id == poll_id)
        .group_by(Ballot.area_id, Ballot.channel)
    )
    return [(area, channel, n) for area, channel, n in await session.execute(query)]


async def counted(session: AsyncSession, poll: PollDef) -> Counter[str]:
    """Every live counter of the poll, as tally_of would give it from all its stored ballots."""
    answered: dict[str, list[tuple[Any, int]]] = {}
    for question in poll.questions:
        key = str(question.id)
        value = cast(Ballot.answers[key], String)  # the answer's JSON text; "null" or NULL: none
        given = (Ballot.poll_id == poll.id) & value.is_not(None) & (value != "null")
        if question.kind is QuestionKind.COMMENT:  # only whether it was answered: no text
            n = (await session.execute(select(func.count()).where(given))).scalar_one()
            answered[key] = [(None, n)] if n else []
            continue
        groups = await session.execute(select(value, func.count()).where(given).group_by(value))
        answered[key] = [(json.loads(text), n) for text, n in groups]
    return tally_of_groups(poll, await turnout(session, poll.id), answered)
