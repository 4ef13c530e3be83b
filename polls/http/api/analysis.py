"""The JSON API of the analysis of written responses: the pilot's themes, each analyst's tags and
quotes, the theme counts and disagreements, suggested themes, and the final report's summary.
The pages in polls.http.council.analysis, .themes and .report do the same for people."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor, Permission
from polls.domain.analysis import (
    SuggestionDecisionSpec,
    SuggestSpec,
    TagsSpec,
    ThemeChangeSpec,
    ThemeSpec,
)
from polls.domain.final_report import SummarySpec
from polls.domain.validation import parse
from polls.http.api.kit import ApiRoute, ok, read_json
from polls.http.kit.forms import path_int
from polls.http.kit.guards import pilot_staff, staff_only
from polls.runtime import runtime
from polls.store import analysis as analysis_store
from polls.store import reports
from polls.store import themes as theme_store
from polls.store.models import Pilot, Theme, ThemeSuggestion


def _theme(theme: Theme, tags: int) -> dict[str, Any]:
    return {"id": theme.id, "name": theme.name, "description": theme.description, "tags": tags}


def _suggestion(s: ThemeSuggestion) -> dict[str, Any]:
    return {
        "id": s.id,
        "label": s.label,
        "key_phrases": s.key_phrases,
        "responses": s.numbers,
        "status": s.status,
        "theme_id": s.theme_id,
    }


async def _themes(request: Request, pilot_id: int) -> Response:
    async with runtime(request).db() as db:
        return ok([_theme(t, n) for t, n in await theme_store.themes_in_use(db, pilot_id)])


@staff_only
@pilot_staff(Permission.ANALYSE_RESPONSES)
async def api_themes(request: Request, actor: Actor, pilot: Pilot) -> Response:
    return await _themes(request, pilot.id)


@staff_only
async def api_add_theme(request: Request, actor: Actor) -> Response:
    spec = parse(ThemeSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        theme = await theme_store.add_theme(db, actor, path_int(request, "pilot_id"), spec)
        return ok(_theme(theme, 0), status=201)


@staff_only
async def api_change_theme(request: Request, actor: Actor) -> Response:
    """409 theme_in_use, changing nothing, when tags use the theme and ``confirm`` is not true."""
    body = parse(ThemeChangeSpec, await read_json(request))
    spec = ThemeSpec(name=body.name, description=body.description)
    pilot_id, theme_id = path_int(request, "pilot_id"), path_int(request, "theme_id")
    async with runtime(request).db.begin() as db:
        await theme_store.change_theme(db, actor, pilot_id, theme_id, spec, body.confirm)
    return await _themes(request, pilot_id)


@staff_only
async def api_delete_theme(request: Request, actor: Actor) -> Response:
    """Deleting a theme that tags use needs ``?confirm=true`` (409 theme_in_use otherwise)."""
    confirmed = request.query_params.get("confirm", "") in ("true", "yes", "1")
    pilot_id, theme_id = path_int(request, "pilot_id"), path_int(request, "theme_id")
    async with runtime(request).db.begin() as db:
        await theme_store.delete_theme(db, actor, pilot_id, theme_id, confirmed)
    return await _themes(request, pilot_id)


@staff_only
async def api_analysis(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        found = await analysis_store.load_analysis(db, actor, path_int(request, "poll_id"))
    return ok(
        {
            "responses": len(found.responses),
            "withheld": len(found.responses) - len(found.analysed),
            "secrecy_k": found.poll.secrecy_k,
            "themes": [
                {"id": c.theme_id, "name": c.name, "responses": c.total}
                | {"by_area": c.by_area, "by_channel": c.by_channel}
                for c in found.counts()
            ],
            "disagreements": [
                {"response": r.number, "themes": sorted(found.readings[r.number].disputed)}
                for r in found.analysed
                if r.number in found.readings and found.readings[r.number].disputed
            ],
            "quotes": sorted(n for n in found.quotes if not found.response(n).withheld),
            "suggestions": [_suggestion(s) for s in found.suggestions],
        }
    )


@staff_only
async def api_read_response(request: Request, actor: Actor) -> Response:
    """This analyst's themes for one response, and whether it is quoted (withheld: 409)."""
    spec = parse(TagsSpec, await read_json(request))
    poll_id, number = path_int(request, "poll_id"), path_int(request, "number")
    async with runtime(request).db.begin() as db:
        await analysis_store.save_reading(db, actor, poll_id, number, spec)
    return ok({"response": number, "themes": spec.themes, "quote": spec.quote})


@staff_only
async def api_suggest(request: Request, actor: Actor) -> Response:
    spec = parse(SuggestSpec, await read_json(request))
    made = await theme_store.suggest_themes(
        runtime(request).db, actor, path_int(request, "poll_id"), spec.groups
    )
    return ok([_suggestion(s) for s in made])


@staff_only
async def api_decide_suggestion(request: Request, actor: Actor) -> Response:
    spec = parse(SuggestionDecisionSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        suggestion = await theme_store.decide_suggestion(db, actor, path_int(request, "suggestion_id"), spec)
        return ok(_suggestion(suggestion))


@staff_only
async def api_report_summary(request: Request, actor: Actor) -> Response:
    spec = parse(SummarySpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        await reports.set_summary(db, actor, path_int(request, "poll_id"), spec)
    return ok({"summary": spec.summary})


THEMES = "/api/pilots/{pilot_id:id}/themes"
ANALYSIS = "/api/polls/{poll_id:id}/analysis"

OPERATIONS: list[ApiRoute] = [
    ApiRoute("GET", THEMES, api_themes, "The pilot's themes, each with how many tags use it (analysts)"),
    ApiRoute("POST", THEMES, api_add_theme, "Add a theme to the pilot's list (analysts)", ThemeSpec),
    ApiRoute(
        "PUT",
        THEMES + "/{theme_id:id}",
        api_change_theme,
        "Rename a theme; when tags use it, only with confirm: true (409 theme_in_use otherwise)",
        ThemeChangeSpec,
    ),
    ApiRoute(
        "DELETE",
        THEMES + "/{theme_id:id}",
        api_delete_theme,
        "Delete a theme and its tags; when tags use it, only with ?confirm=true",
    ),
    ApiRoute(
        "GET",
        ANALYSIS,
        api_analysis,
        "Theme counts (by area and channel, cells under k hidden), disagreements, quotes, suggestions",
    ),
    ApiRoute(
        "PUT",
        ANALYSIS + "/responses/{number:id}",
        api_read_response,
        "Your themes for one response and whether to quote it (withheld: 409 response_withheld)",
        TagsSpec,
    ),
    ApiRoute(
        "POST",
        ANALYSIS + "/suggestions",
        api_suggest,
        "Suggest themes (TF-IDF and NMF); replaces the undecided suggestions, changes no theme or tag",
        SuggestSpec,
    ),
    ApiRoute(
        "PUT",
        "/api/theme-suggestions/{suggestion_id:id}",
        api_decide_suggestion,
        "Accept (a theme and your tags), rename or reject a suggested theme (council admins)",
        SuggestionDecisionSpec,
    ),
    ApiRoute(
        "PUT",
        "/api/polls/{poll_id:id}/report/summary",
        api_report_summary,
        "The final report's summary (closed or under review; council admins)",
        SummarySpec,
    ),
]
