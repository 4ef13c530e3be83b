"""The pilot's theme list and the suggested themes: adding, renaming and deleting themes (a change
that existing tags use waits for confirmation), and an officer's decision on each suggestion.
Suggestions are stored apart and change no theme or tag until an officer accepts one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain import analysis
from polls.domain.access import Actor, Permission
from polls.domain.analysis import SuggestionDecision, SuggestionDecisionSpec, ThemeSpec
from polls.domain.theme_suggestions import Suggestion, suggest
from polls.errors import Conflict, ErrorCode, NotFound
from polls.store import audit
from polls.store.analysis import counted_poll
from polls.store.db import Database
from polls.store.models import Pilot, Poll, ResponseTag, Theme, ThemeSuggestion
from polls.store.pilots import get_pilot


async def themes_in_use(session: AsyncSession, pilot_id: int) -> list[tuple[Theme, int]]:
    """The pilot's themes, by name, each with how many tags use it."""
    used = select(ResponseTag.theme_id, func.count().label("tags")).group_by(ResponseTag.theme_id).subquery()
    rows = await session.execute(
        select(Theme, func.coalesce(used.c.tags, 0))
        .outerjoin(used, used.c.theme_id == Theme.id)
        .where(Theme.pilot_id == pilot_id)
        .order_by(func.lower(Theme.name))
    )
    return [(theme, int(tags)) for theme, tags in rows.all()]


async def _name_free(session: AsyncSession, pilot_id: int, name: str, other_than: int | None = None) -> None:
    # Names are unique whatever their case, which no index here enforces: the pilot's row lock
    # makes two officers naming a theme at the same instant take turns (SQLite's writers
    # already do, behind BEGIN IMMEDIATE).
    await session.execute(select(Pilot.id).where(Pilot.id == pilot_id).with_for_update())
    query = select(Theme.id).where(Theme.pilot_id == pilot_id, func.lower(Theme.name) == name.lower())
    found = await session.scalar(query)
    if found is not None and found != other_than:
        raise Conflict(f"This pilot already has a theme called {name!r}", code=ErrorCode.THEME_NAME_TAKEN)


async def add_theme(session: AsyncSession, actor: Actor, pilot_id: int, spec: ThemeSpec) -> Theme:
    await get_pilot(session, actor, pilot_id, Permission.ANALYSE_RESPONSES)
    await _name_free(session, pilot_id, spec.name)
    theme = Theme(pilot_id=pilot_id, name=spec.name, description=spec.description, created_by=actor.email)
    session.add(theme)
    await session.flush()
    await _audit(session, actor, "analysis.theme_added", theme, None, _facts(theme))
    return theme


async def _theme(session: AsyncSession, actor: Actor, pilot_id: int, theme_id: int) -> tuple[Theme, int]:
    theme = await session.get(Theme, theme_id, with_for_update=True)
    if theme is None or theme.pilot_id != pilot_id or not actor.can(Permission.VIEW_PILOT, pilot_id):
        raise NotFound("This pilot has no such theme", code=ErrorCode.THEME_NOT_FOUND)
    actor.require(Permission.ANALYSE_RESPONSES, theme.pilot_id)
    tags = await session.scalar(select(func.count()).where(ResponseTag.theme_id == theme.id))
    return theme, int(tags or 0)


async def change_theme(
    session: AsyncSession, actor: Actor, pilot_id: int, theme_id: int, spec: ThemeSpec, confirmed: bool
) -> Theme:
    """Rename a theme or change what it covers; when tags use it, only once confirmed (the tags
    then mean the new name)."""
    theme, tags = await _theme(session, actor, pilot_id, theme_id)
    before = _facts(theme)
    if (theme.name, theme.description) == (spec.name, spec.description):
        return theme
    await _name_free(session, theme.pilot_id, spec.name, other_than=theme.id)
    if theme.name != spec.name:
        analysis.require_confirmed(tags, confirmed, "rename")
    theme.name, theme.description = spec.name, spec.description
    await session.flush()
    await _audit(session, actor, "analysis.theme_changed", theme, before, _facts(theme) | {"tags": tags})
    return theme


async def delete_theme(
    session: AsyncSession, actor: Actor, pilot_id: int, theme_id: int, confirmed: bool
) -> None:
    """Delete a theme; when tags use it, only once confirmed, and its tags go with it."""
    theme, tags = await _theme(session, actor, pilot_id, theme_id)
    analysis.require_confirmed(tags, confirmed, "delete")
    before = _facts(theme) | {"tags": tags}
    await session.execute(delete(ResponseTag).where(ResponseTag.theme_id == theme.id))
    await session.delete(theme)
    await session.flush()
    await _audit(session, actor, "analysis.theme_deleted", theme, before, None)


async def suggestion_input(session: AsyncSession, actor: Actor, poll_id: int) -> list[tuple[int, str]]:
    """The (number, words) of every response the suggestions may group: none withheld."""
    _, result = await counted_poll(session, actor, poll_id)
    found = analysis.analysed(analysis.responses(result.comments, []))
    analysis.require_responses(found)
    return [(r.number, r.text) for r in found]


async def save_suggestions(
    session: AsyncSession, actor: Actor, poll_id: int, numbers: Sequence[int], found: Sequence[Suggestion]
) -> list[ThemeSuggestion]:
    """Replace the poll's pending suggestions with ``found`` (members index ``numbers``); those
    already accepted or rejected stay as they were."""
    poll, _ = await counted_poll(session, actor, poll_id)
    pending = (ThemeSuggestion.poll_id == poll.id) & (ThemeSuggestion.status == "pending")
    await session.execute(delete(ThemeSuggestion).where(pending))
    made = [
        ThemeSuggestion(
            poll_id=poll.id,
            label=s.label[:80],
            key_phrases=s.key_phrases,
            numbers=[numbers[i] for i in s.members],
            status="pending",
        )
        for s in found
    ]
    session.add_all(made)
    await session.flush()
    return made


async def suggest_themes(
    sessions: Database, actor: Actor, poll_id: int, groups: int
) -> list[ThemeSuggestion]:
    """Group the poll's responses on the server, off the event loop (a thread), and store the
    groups as pending suggestions; no database transaction stays open while it computes."""
    async with sessions() as session:
        found = await suggestion_input(session, actor, poll_id)
    grouped = await asyncio.to_thread(suggest, [text for _, text in found], groups)
    async with sessions.begin() as session:
        return await save_suggestions(session, actor, poll_id, [n for n, _ in found], grouped)


async def decide_suggestion(
    session: AsyncSession, actor: Actor, suggestion_id: int, spec: SuggestionDecisionSpec
) -> ThemeSuggestion:
    """An officer accepts a suggestion (under its label or ``name``: a theme of that name, made if
    need be, and their tags on its responses that are not withheld), renames it, or rejects it."""
    suggestion = await session.get(ThemeSuggestion, suggestion_id, with_for_update=True)
    if suggestion is None:
        raise NotFound("This poll has no such suggested theme", code=ErrorCode.SUGGESTION_NOT_FOUND)
    poll, result = await counted_poll(session, actor, suggestion.poll_id, Permission.MANAGE_PILOT)
    if suggestion.status != "pending":
        raise Conflict(f"This suggestion was already {suggestion.status}", code=ErrorCode.SUGGESTION_DECIDED)
    if spec.name is not None:
        suggestion.label = ThemeSpec(name=spec.name).name
    if spec.decision is SuggestionDecision.RENAME:
        await session.flush()
        return suggestion
    if spec.decision is SuggestionDecision.ACCEPT:
        suggestion.theme_id = await _accept(session, actor, poll, suggestion, result.comments)
    suggestion.status = "accepted" if spec.decision is SuggestionDecision.ACCEPT else "rejected"
    suggestion.decided_by = actor.email
    await session.flush()
    facts = {"suggestion": suggestion.id, "label": suggestion.label, "responses": len(suggestion.numbers)}
    await audit.record(
        session,
        actor=actor.email,
        action=f"analysis.suggestion_{suggestion.status}",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        after=facts | {"theme_id": suggestion.theme_id},
    )
    return suggestion


async def _accept(
    session: AsyncSession,
    actor: Actor,
    poll: Poll,
    suggestion: ThemeSuggestion,
    comments: list[dict[str, object]],
) -> int:
    pilot_id, poll_id = poll.pilot_id, poll.id
    theme = await session.scalar(
        select(Theme).where(Theme.pilot_id == pilot_id, func.lower(Theme.name) == suggestion.label.lower())
    )
    if theme is None:
        spec = ThemeSpec(
            name=suggestion.label, description="Key phrases: " + ", ".join(suggestion.key_phrases)
        )
        theme = await add_theme(session, actor, pilot_id, spec)
    have = set(
        (
            await session.scalars(
                select(ResponseTag.number).where(
                    ResponseTag.poll_id == poll_id,
                    ResponseTag.theme_id == theme.id,
                    ResponseTag.staff_id == actor.staff_id,
                )
            )
        ).all()
    )
    withheld = {n for n, c in enumerate(comments, start=1) if c["status"] == "withheld"}
    session.add_all(
        ResponseTag(poll_id=poll_id, number=n, theme_id=theme.id, staff_id=actor.staff_id)
        for n in suggestion.numbers
        if n not in have and n not in withheld
    )
    return theme.id


def _facts(theme: Theme) -> dict[str, object]:
    return {"theme": theme.id, "name": theme.name, "description": theme.description}


async def _audit(
    session: AsyncSession, actor: Actor, action: str, theme: Theme, before: object, after: object
) -> None:
    await audit.record(
        session,
        actor=actor.email,
        action=action,
        target=f"pilot:{theme.pilot_id}",
        pilot_id=theme.pilot_id,
        before=before,
        after=after,
    )
