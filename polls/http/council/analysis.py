"""The analysis pages of a closed poll's written responses: an overview (theme counts by area and
channel, where analysts disagree, suggested themes) and a reader that shows one response at a
time to tag, quote or withhold. Analysts and council admins tag and quote; council admins
withhold (through the comment review) and decide on suggested themes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.analysis import CHANNEL_LABELS, SuggestionDecisionSpec, SuggestSpec, TagsSpec
from polls.domain.comment_review import CHOSEN_REASONS, REASON_LABELS, STATUS_LABELS, CommentDecisionSpec
from polls.domain.polls import PollStatus
from polls.domain.publication import REVIEWABLE
from polls.domain.theme_suggestions import DEFAULT_GROUPS, MAX_GROUPS
from polls.domain.validation import parse
from polls.errors import Conflict, ErrorCode, ValidationFailed
from polls.http.kit.forms import path_int, read_form, see_other, whole_number
from polls.http.kit.guards import page
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import analysis as analysis_store
from polls.store import comments as comment_store
from polls.store import themes as theme_store
from polls.store.analysis import Analysis
from polls.store.models import Pilot
from polls.store.pilots import get_pilot

REASON_CHOICES = [
    ("", "Choose a reason"),
    *((r.value, REASON_LABELS[r].capitalize()) for r in CHOSEN_REASONS),
]


async def _load(request: Request, actor: Actor) -> tuple[Analysis, Pilot]:
    async with runtime(request).db() as db:
        found = await analysis_store.load_analysis(db, actor, path_int(request, "poll_id"))
        pilot = await get_pilot(db, actor, found.poll.pilot_id, Permission.ANALYSE_RESPONSES)
    return found, pilot


def _common(found: Analysis, pilot: Pilot, actor: Actor) -> dict[str, Any]:
    titles = {q.id: q.title for q in found.poll.questions}
    return {
        "pilot": pilot,
        "poll": found.poll,
        "analysis": found,
        "titles": titles,
        "themes": found.themes,
        "can_manage": actor.can(Permission.MANAGE_PILOT, pilot.id),
        "status_labels": STATUS_LABELS,
        "reason_labels": REASON_LABELS,
    }


async def overview(request: Request, actor: Actor, errors: dict[str, str] | None = None) -> Response:
    found, pilot = await _load(request, actor)
    disputed = [(r, found.readings[r.number]) for r in found.analysed if found.readings.get(r.number, None)]
    context = _common(found, pilot, actor) | {
        "counts": found.counts(),
        "channel_labels": CHANNEL_LABELS,
        "disputed": [(r, reading) for r, reading in disputed if reading.disputed],
        "untagged": [r for r in found.analysed if r.number not in found.readings],
        "quoted": [r for r in found.analysed if r.number in found.quotes],
        "withheld": len(found.responses) - len(found.analysed),
        "groups": {"groups": request.query_params.get("groups", str(DEFAULT_GROUPS))},
        "max_groups": MAX_GROUPS,
        "pending": [s for s in found.suggestions if s.status == "pending"],
        "decided": [s for s in found.suggestions if s.status != "pending"],
        "has_origins": bool(found.result.comment_origins),
        "errors": errors or {},
    }
    return render(request, "council/analysis.html", context, status_code=422 if errors else 200)


async def reader(request: Request, actor: Actor, errors: dict[str, str] | None = None) -> Response:
    found, pilot = await _load(request, actor)
    number = path_int(request, "number")
    response = found.response(number)
    mine = found.readings.get(number)
    me = next((who for who in (mine.by_analyst if mine else {}) if who.endswith(f"<{actor.email}>")), None)
    poll_status = PollStatus(found.poll.status)
    context = _common(found, pilot, actor) | {
        "response": response,
        "number": number,
        "total": len(found.responses),
        "reading": mine,
        "mine": mine.by_analyst.get(me, set()) if mine and me else set(),
        "others": {who: t for who, t in (mine.by_analyst.items() if mine else []) if who != me},
        "quoted": number in found.quotes,
        "can_withhold": actor.can(Permission.MANAGE_PILOT, pilot.id) and poll_status in REVIEWABLE,
        "reason_choices": [
            ("", "Choose a reason"),
            *((r.value, REASON_LABELS[r].capitalize()) for r in CHOSEN_REASONS),
        ],
        "errors": errors or {},
    }
    return render(request, "council/analysis_response.html", context, status_code=422 if errors else 200)


async def save_reading(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    poll_id, number = path_int(request, "poll_id"), path_int(request, "number")
    chosen = [whole_number(str(v)) for v in form.getlist("themes")]
    try:
        spec = parse(
            TagsSpec, {"themes": [t for t in chosen if t is not None], "quote": form.get("quote") == "yes"}
        )
    except ValidationFailed as exc:
        return await reader(request, actor, {"themes": exc.errors[0].message})
    async with runtime(request).db.begin() as db:
        await analysis_store.save_reading(db, actor, poll_id, number, spec)
    following = number + 1 if form.get("next") == "yes" else number
    return see_other(f"/council/polls/{poll_id}/analysis/responses/{following}")


async def withhold(request: Request, actor: Actor) -> Response:
    """Withhold a response from publication and from the analysis: the comment review's own
    decision (council admins, while the results are in review), audited there."""
    form = await read_form(request)
    poll_id, number = path_int(request, "poll_id"), path_int(request, "number")
    data = {"decision": "withheld", "reason": str(form.get("reason", "")) or None}
    try:
        spec = parse(CommentDecisionSpec, data)
    except ValidationFailed as exc:
        return await reader(request, actor, {"reason": exc.errors[0].message})
    async with runtime(request).db.begin() as db:
        await comment_store.decide(db, actor, poll_id, number, spec)
    return see_other(f"/council/polls/{poll_id}/analysis/responses/{number}")


async def compute_suggestions(request: Request, actor: Actor) -> Response:
    """Group the responses on the server, off the event loop; only the suggestions are stored."""
    form = await read_form(request)
    poll_id = path_int(request, "poll_id")
    try:
        spec = parse(SuggestSpec, {"groups": whole_number(str(form.get("groups", ""))) or 0})
    except ValidationFailed:
        return await overview(request, actor, {"groups": f"Choose between 2 and {MAX_GROUPS} groups"})
    try:
        await theme_store.suggest_themes(runtime(request).db, actor, poll_id, spec.groups)
    except Conflict as exc:
        if exc.code is not ErrorCode.NO_RESPONSES:
            raise
        return await overview(request, actor, {"groups": exc.message})
    return see_other(f"/council/polls/{poll_id}/analysis#suggestions")


async def decide_suggestion(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    decision = str(form.get("decision", ""))
    name = str(form.get("name", "")).strip() or None
    spec = parse(
        SuggestionDecisionSpec, {"decision": decision, "name": None if decision == "reject" else name}
    )
    async with runtime(request).db.begin() as db:
        suggestion = await theme_store.decide_suggestion(db, actor, path_int(request, "suggestion_id"), spec)
    return see_other(f"/council/polls/{suggestion.poll_id}/analysis#suggestions")


GET, POST = ["GET"], ["POST"]
BASE = "/council/polls/{poll_id:id}/analysis"

routes: list[BaseRoute] = [
    Route(BASE, page(overview), methods=GET),
    Route(BASE + "/responses/{number:id}", page(reader), methods=GET),
    Route(BASE + "/responses/{number:id}", page(save_reading), methods=POST),
    Route(BASE + "/responses/{number:id}/withhold", page(withhold), methods=POST),
    Route(BASE + "/suggestions", page(compute_suggestions), methods=POST),
    Route("/council/theme-suggestions/{suggestion_id:id}", page(decide_suggestion), methods=POST),
]
