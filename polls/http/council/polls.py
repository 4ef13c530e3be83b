"""Officer pages for polls and their questions: draft, edit, move through the lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.domain.access import Actor, Permission
from polls.domain.counting.rules import RANKING_RULES, STV_TRANSFERS
from polls.domain.counting.shares_variants import COMPLETIONS, UTILITIES
from polls.domain.messages import RETRYABLE
from polls.domain.polls import (
    ACTION_LABELS,
    ASSURANCE_LABELS,
    STATUS_LABELS,
    VISIBILITY_LABELS,
    Action,
    NewPollSpec,
    PollSpec,
    PollStatus,
    allowed_actions,
    is_editable,
)
from polls.domain.published_ballots import LAYOUT_LABELS
from polls.domain.questions import KIND_LABELS, QuestionKind, QuestionSpec
from polls.domain.secrecy import DEFAULT_SECRECY_K, results_final
from polls.domain.translations import LANGUAGE_NAMES
from polls.domain.validation import parse
from polls.errors import Conflict, ErrorCode, ValidationFailed
from polls.http.council import confirm
from polls.http.kit.forms import errors_by_field, form_dict, path_int, read_form, see_other
from polls.http.kit.guards import page, pilot_staff, poll_staff
from polls.http.kit.render import render
from polls.http.kit.timezones import parse_local_datetime
from polls.runtime import runtime
from polls.store import audit, subscriptions
from polls.store import lifecycle as poll_lifecycle
from polls.store import messages as outbox
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.models import Pilot, Poll, Question

# Polls


def _poll_data(request: Request, form: FormData) -> dict[str, Any]:
    data = form_dict(form, lists=("area_ids",))
    tz = runtime(request).settings.timezone
    for name in ("opens_at", "closes_at"):
        if name in data:
            data[name] = parse_local_datetime(data[name], tz)
    return data


def _poll_values(poll: Any) -> dict[str, Any]:
    if poll is None:
        return {
            "results_visibility": "after_close",
            "assurance": "poll_card",
            "ballot_file_layout": "per_question",
            "area_ids": [],
            "secrecy_k": DEFAULT_SECRECY_K,
        }
    return {
        "title": poll.title,
        "description": poll.description,
        "area_ids": [str(a.id) for a in poll.areas],
        "opens_at": poll.opens_at,
        "closes_at": poll.closes_at,
        "results_visibility": poll.results_visibility,
        "assurance": poll.assurance,
        "ballot_file_layout": poll.ballot_file_layout,
        "secrecy_k": poll.secrecy_k,
    }


TIME_PROBLEMS = (ErrorCode.POLL_TIMES_MISSING, ErrorCode.CLOSING_TIME_PASSED)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite's are naive UTC


def _time_errors(poll: Poll, move: str) -> dict[str, str]:
    """Why the poll could not be scheduled or opened, next to the times to change."""
    errors = {}
    if move == "schedule" and poll.opens_at is None:
        errors["opens_at"] = "Enter an opening time to schedule the poll"
    if move == "schedule" and poll.closes_at is None:
        errors["closes_at"] = "Enter a closing time to schedule the poll"
    elif poll.closes_at is not None and _utc(poll.closes_at) <= datetime.now(UTC):
        errors["closes_at"] = "The closing time has already passed; enter a later one"
    return errors


@pilot_staff(Permission.MANAGE_PILOT)
async def new_poll(request: Request, actor: Actor, pilot: Pilot) -> Response:
    return await _poll_form(request, actor, None, pilot)


@poll_staff(Permission.MANAGE_PILOT)
async def edit_poll(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    return await _poll_form(request, actor, poll, pilot)


async def _poll_form(request: Request, actor: Actor, poll: Poll | None, pilot: Pilot) -> Response:
    """Draft a poll (/council/pilots/{id}/polls/new) or change a draft (/council/polls/{id}/edit)."""
    pilot_id = pilot.id
    async with runtime(request).db() as db:
        areas = await pilot_store.list_areas(db, pilot_id)
    values: dict[str, Any] = _poll_values(poll)
    errors: dict[str, str] = {}
    move = request.query_params.get("to")
    if poll is not None and request.method == "GET" and move in ("schedule", "open"):
        errors = _time_errors(poll, move)
    if request.method == "POST":
        form = await read_form(request)
        values = {**dict(form), "area_ids": form.getlist("area_ids")}
        try:
            async with runtime(request).db.begin() as db:
                if poll is None:
                    spec = parse(NewPollSpec, _poll_data(request, form))
                    poll = await poll_store.create_poll(db, actor, pilot_id, spec)
                else:
                    await poll_store.update_poll(
                        db, actor, poll.id, parse(PollSpec, _poll_data(request, form))
                    )
            return see_other(f"/council/polls/{poll.id}")
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors, {"__root__": "closes_at"})
    context = {
        "pilot": pilot,
        "poll": poll,
        "values": values,
        "errors": errors,
        "area_choices": [(str(a.id), a.name) for a in areas],
        "visibility_labels": VISIBILITY_LABELS,
        "assurance_labels": ASSURANCE_LABELS,
        "layout_labels": LAYOUT_LABELS,
        "timezone": runtime(request).settings.timezone,
    }
    return render(request, "council/poll_form.html", context, status_code=422 if errors else 200)


@poll_staff(Permission.VIEW_PILOT)
async def poll_page(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        areas = await pilot_store.list_areas(db, pilot.id)
        moved = (await audit.poll_moves(db, pilot.id)).get(poll.id, {})
        messages = {
            "subscribers": await subscriptions.subscriber_count(db, poll.id),
            "counts": await outbox.status_counts(db, poll_id=poll.id),
            # Residents' messages can be many: the list shows those needing attention.
            "messages": await outbox.messages_of(db, poll_id=poll.id, statuses=RETRYABLE, limit=200),
        }
    turnout = None
    status = PollStatus(poll.status)
    if status not in (PollStatus.DRAFT, PollStatus.SCHEDULED):
        # Officers always see turnout, whatever residents may see of the results; while the
        # poll is open, only in the public's steps (an officer can be an observer too).
        tallies = runtime(request).tallies
        stepped = not results_final(status)
        counts = await (tallies.read_published(poll.id) if stepped else tallies.read(poll.id))
        shown = poll.areas or areas
        turnout = {
            "stepped": poll.secrecy_k if stepped else None,
            "ballots": counts.get("ballots", 0),
            "areas": [(a.name, counts.get(f"area:{a.id}", 0)) for a in shown],
            "channels": {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("channel:")},
        }
    return render(
        request,
        "council/poll.html",
        {
            "pilot": pilot,
            "poll": poll,
            "moved": moved,
            "turnout": turnout,
            "status_labels": STATUS_LABELS,
            "kind_labels": KIND_LABELS,
            "visibility_labels": VISIBILITY_LABELS,
            "assurance_labels": ASSURANCE_LABELS,
            "layout_labels": LAYOUT_LABELS,
            "actions": allowed_actions(poll_store.facts(poll)),
            "action_labels": ACTION_LABELS,
            "confirm_first": confirm.POLL_ACTIONS,
            "editable": is_editable(PollStatus(poll.status)),
            "can_manage": actor.can(Permission.MANAGE_PILOT, pilot.id),
            "kinds": list(QuestionKind),
            "language_names": LANGUAGE_NAMES,
            **messages,
        },
    )


async def poll_action(request: Request, actor: Actor) -> Response:
    """GET: the confirmation page of an action that cannot be undone; POST: carry it out (one
    that cannot be undone only with ``confirm=yes``, as that page posts it)."""
    poll_id = path_int(request, "poll_id")
    try:
        action = Action(request.path_params["action"])
    except ValueError:
        raise ValidationFailed.one("action", "Unknown action") from None
    if request.method == "GET":
        return await confirm.poll_action_page(request, actor)
    form = await read_form(request)
    if action in confirm.POLL_ACTIONS and not confirm.confirmed(form):
        return see_other(f"/council/polls/{poll_id}/actions/{action.value}")
    try:
        async with runtime(request).db.begin() as db:
            await poll_lifecycle.transition(db, actor, poll_id, action)
    except Conflict as exc:
        if exc.code in TIME_PROBLEMS:  # answered next to the time fields, on the poll's form
            return see_other(f"/council/polls/{poll_id}/edit?to={action.value}")
        raise
    if action is Action.CLOSE:  # committed: the live figures may now show every ballot
        await runtime(request).tallies.finish(poll_id)
    if action is Action.REVIEW:  # the review happens on the official results page
        return see_other(f"/council/polls/{poll_id}/results")
    return see_other(f"/council/polls/{poll_id}")


# Questions

COUNTING_CHOICES = {  # the usual choice first, as a new question's select shows it
    "ranking_rule": list(RANKING_RULES.items()),
    "stv_transfers": list(STV_TRANSFERS.items()),
    "mes_utility": list(UTILITIES.items()),
    "mes_completion": list(COMPLETIONS.items()),
}


def question_values(question: Question | None, kind: QuestionKind) -> dict[str, Any]:
    if question is None:
        return {"kind": kind.value}
    values: dict[str, Any] = {
        "kind": question.kind,
        "title": question.title,
        "help_text": question.help_text,
    }
    values.update({k: "" if v is None else v for k, v in question.settings.items()})
    lines = [f"{o.label} | {o.cost}" if o.cost is not None else o.label for o in question.options]
    values["options"] = "\n".join(lines)
    return values


def question_data(form: FormData) -> dict[str, Any]:
    """A question form as a QuestionSpec body: options one per line, "label | cost" for budgets."""
    data = form_dict(form)
    kind = data.get("kind")
    options = []
    for line in str(form.get("options", "")).splitlines():
        if not line.strip():
            continue
        label, _, cost = line.partition("|")
        option: dict[str, Any] = {"label": label.strip()}
        if kind == QuestionKind.BUDGET.value:
            option["cost"] = cost.strip().replace(",", "").lstrip("£") or None
        options.append(option)
    data["options"] = options
    # Only the settings of the chosen kind are sent: the others are hidden on the page anyway.
    keep = {"kind", "title", "help_text", "options", *_KIND_FIELDS.get(str(kind), ())}
    return {k: v for k, v in data.items() if k in keep}


_KIND_FIELDS = {
    "multiple": ("min_choices", "max_choices"),
    "ranked": ("seats", "ranking_rule", "stv_transfers"),
    "scale": ("scale_min", "scale_max", "min_label", "max_label"),
    "budget": ("budget_total", "mes_utility", "mes_completion"),
    "comment": ("max_length",),
}


@poll_staff(Permission.MANAGE_PILOT)
async def question_form(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    poll_id = poll.id
    question_id = request.path_params.get("question_id")
    if not is_editable(PollStatus(poll.status)):
        raise Conflict(
            "Questions can only change while the poll is a draft", code=ErrorCode.POLL_NOT_EDITABLE
        )
    question = poll_store.find_question(poll, int(question_id)) if question_id is not None else None
    try:
        kind = QuestionKind(question.kind if question else request.query_params.get("kind", "single"))
    except ValueError:
        kind = QuestionKind.SINGLE
    values = question_values(question, kind)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        values = dict(form)
        try:
            kind = QuestionKind(str(form.get("kind", "")))
        except ValueError:
            kind = QuestionKind.SINGLE
        try:
            spec = parse(QuestionSpec, question_data(form))
            async with runtime(request).db.begin() as db:
                if question is None:
                    await poll_store.add_question(db, actor, poll_id, spec)
                else:
                    await poll_store.update_question(db, actor, poll_id, question.id, spec)
            return see_other(f"/council/polls/{poll_id}#questions")
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors, {"__root__": "options"})
            errors = {k.split(".")[0]: v for k, v in errors.items()}
    return render(
        request,
        "council/question_form.html",
        {
            "pilot": pilot,
            "poll": poll,
            "question": question,
            "kind": kind,
            "values": values,
            "errors": errors,
            "kind_labels": KIND_LABELS,
            "counting_choices": COUNTING_CHOICES,
        },
        status_code=422 if errors else 200,
    )


async def move_question(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    poll_id = path_int(request, "poll_id")
    offset = -1 if form.get("direction") == "up" else 1
    async with runtime(request).db.begin() as db:
        await poll_store.move_question(db, actor, poll_id, path_int(request, "question_id"), offset)
    return see_other(f"/council/polls/{poll_id}#questions")


async def delete_question(request: Request, actor: Actor) -> Response:
    await read_form(request)
    poll_id = path_int(request, "poll_id")
    async with runtime(request).db.begin() as db:
        await poll_store.delete_question(db, actor, poll_id, path_int(request, "question_id"))
    return see_other(f"/council/polls/{poll_id}#questions")


GET, BOTH, POST = ["GET"], ["GET", "POST"], ["POST"]

routes = [
    Route("/council/pilots/{pilot_id:id}/polls/new", page(new_poll), methods=BOTH),
    Route("/council/polls/{poll_id:id}", page(poll_page), methods=GET),
    Route("/council/polls/{poll_id:id}/edit", page(edit_poll), methods=BOTH),
    Route("/council/polls/{poll_id:id}/actions/{action}", page(poll_action), methods=BOTH),
    Route("/council/polls/{poll_id:id}/questions/new", page(question_form), methods=BOTH),
    Route(
        "/council/polls/{poll_id:id}/questions/{question_id:id}/edit",
        page(question_form),
        methods=BOTH,
    ),
    Route(
        "/council/polls/{poll_id:id}/questions/{question_id:id}/move",
        page(move_question),
        methods=POST,
    ),
    Route(
        "/council/polls/{poll_id:id}/questions/{question_id:id}/delete",
        page(delete_question),
        methods=POST,
    ),
]
