"""Analysing a closed poll's written responses: each analyst's tags and the quotes chosen for the
report. Every change is audited by response number and theme, never with the words, so the audit
log does not republish a withheld response."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain import analysis
from polls.domain.access import Actor, Permission
from polls.domain.analysis import Reading, Response, TagsSpec
from polls.errors import Conflict, ErrorCode, NotFound
from polls.store import audit
from polls.store.models import (
    Area,
    OfficialResult,
    Poll,
    QuotedResponse,
    ResponseTag,
    Staff,
    Theme,
    ThemeSuggestion,
)
from polls.store.polls import get_poll
from polls.store.results import load


@dataclass
class Analysis:
    """What the analysis pages show of one poll."""

    poll: Poll
    result: OfficialResult
    responses: list[Response]
    themes: dict[int, str]
    readings: dict[int, Reading]
    quotes: set[int]
    areas: dict[int, str]
    suggestions: list[ThemeSuggestion] = field(default_factory=list)

    @property
    def analysed(self) -> list[Response]:
        return analysis.analysed(self.responses)

    def counts(self) -> list[analysis.ThemeCount]:
        return analysis.theme_counts(
            self.analysed, self.readings, self.themes, self.areas, self.poll.secrecy_k
        )

    def response(self, number: int) -> Response:
        return analysis_response(self.result, number)


def analysis_response(result: OfficialResult, number: int) -> Response:
    """Response ``number`` (from 1) of the poll's comments; NotFound for no such response."""
    if not 1 <= number <= len(result.comments):
        raise NotFound("This poll has no response with that number", code=ErrorCode.COMMENT_NOT_FOUND)
    return analysis.responses(result.comments, result.comment_origins)[number - 1]


async def counted_poll(
    session: AsyncSession, actor: Actor, poll_id: int, permission: Permission = Permission.ANALYSE_RESPONSES
) -> tuple[Poll, OfficialResult]:
    poll = await get_poll(session, actor, poll_id, permission)
    result = await load(session, poll.id)
    if result is None:
        raise Conflict(
            "This poll has not closed, so it has no responses to analyse yet", code=ErrorCode.NO_RESULTS_YET
        )
    return poll, result


async def pilot_themes(session: AsyncSession, pilot_id: int) -> dict[int, str]:
    rows = await session.execute(select(Theme.id, Theme.name).where(Theme.pilot_id == pilot_id))
    return dict(sorted(((i, n) for i, n in rows.all()), key=lambda item: item[1].lower()))


async def load_analysis(session: AsyncSession, actor: Actor, poll_id: int) -> Analysis:
    poll, result = await counted_poll(session, actor, poll_id)
    return await gather(session, poll, result)


async def gather(session: AsyncSession, poll: Poll, result: OfficialResult) -> Analysis:
    """The analysis of a poll whose access the caller has checked."""
    tags = await session.execute(
        select(ResponseTag.number, Staff.name, Staff.email, ResponseTag.theme_id)
        .join(Staff, Staff.id == ResponseTag.staff_id)
        .where(ResponseTag.poll_id == poll.id)
    )
    quotes = await session.scalars(select(QuotedResponse.number).where(QuotedResponse.poll_id == poll.id))
    areas = await session.execute(select(Area.id, Area.name).where(Area.pilot_id == poll.pilot_id))
    suggestions = await session.scalars(
        select(ThemeSuggestion).where(ThemeSuggestion.poll_id == poll.id).order_by(ThemeSuggestion.id)
    )
    return Analysis(
        poll=poll,
        result=result,
        responses=analysis.responses(result.comments, result.comment_origins),
        themes=await pilot_themes(session, poll.pilot_id),
        readings=analysis.readings((n, f"{name} <{email}>", t) for n, name, email, t in tags.all()),
        quotes=set(quotes.all()),
        areas={i: n for i, n in areas.all()},
        suggestions=list(suggestions.all()),
    )


async def save_reading(
    session: AsyncSession, actor: Actor, poll_id: int, number: int, spec: TagsSpec
) -> None:
    """Replace this analyst's tags on response ``number`` and mark or unmark it as a quote."""
    poll, result = await counted_poll(session, actor, poll_id)
    if analysis_response(result, number).withheld:
        raise Conflict(
            "This response is withheld, so it is not tagged or quoted", code=ErrorCode.RESPONSE_WITHHELD
        )
    themes = await pilot_themes(session, poll.pilot_id)
    if any(t not in themes for t in spec.themes):
        raise NotFound("This pilot has no such theme", code=ErrorCode.THEME_NOT_FOUND)
    mine = (ResponseTag.poll_id == poll.id) & (ResponseTag.number == number)
    mine &= ResponseTag.staff_id == actor.staff_id
    before = sorted((await session.scalars(select(ResponseTag.theme_id).where(mine))).all())
    quoted = await session.get(QuotedResponse, (poll.id, number))
    if before == spec.themes and (quoted is not None) == spec.quote:
        return
    await session.execute(delete(ResponseTag).where(mine))
    session.add_all(
        ResponseTag(poll_id=poll.id, number=number, theme_id=t, staff_id=actor.staff_id) for t in spec.themes
    )
    if spec.quote and quoted is None:
        session.add(QuotedResponse(poll_id=poll.id, number=number, marked_by=actor.email))
    elif not spec.quote and quoted is not None:
        await session.delete(quoted)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="analysis.response_read",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        before={"response": number, "themes": before, "quote": quoted is not None},
        after={"response": number, "themes": spec.themes, "quote": spec.quote},
    )
