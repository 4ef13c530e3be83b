"""Officer pages: pilots, areas, staff and polls, working without JavaScript."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from polls.domain.access import Actor, Permission
from polls.domain.pilots import ROLE_LABELS, AreaSpec, PilotSpec, StaffRoleSpec, parse_area_csv
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
from polls.domain.questions import KIND_LABELS, QuestionKind, QuestionSpec
from polls.domain.translations import LANGUAGE_NAMES
from polls.domain.validation import parse
from polls.errors import Conflict, PollsError, ValidationFailed
from polls.http.auth import check_csrf, require_actor
from polls.http.pages import errors_by_field, form_dict, render
from polls.http.signin import invite_link
from polls.http.timezones import parse_local_datetime
from polls.runtime import runtime
from polls.store import audit
from polls.store import lifecycle as poll_lifecycle
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.models import Question

Handler = Callable[[Request, Actor], Awaitable[Response]]


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Guard for officer pages: signed in, and every POST carries the session's CSRF token."""

    async def endpoint(request: Request) -> Response:
        actor = await require_actor(request)
        if request.method == "POST":
            await read_form(request)
        return await handler(request, actor)

    return endpoint


async def read_form(request: Request) -> FormData:
    # Starlette keeps the parsed form on the request, so handlers reading it again get the same one.
    form = await request.form(max_part_size=5 * 1024 * 1024)
    check_csrf(request, form)
    return form


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def pid(request: Request, name: str = "pilot_id") -> int:
    return int(request.path_params[name])


# Pilots


async def home(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilots = await pilot_store.list_pilots(db, actor)
    return render(request, "council/home.html", {"pilots": pilots, "role_labels": ROLE_LABELS})


def _pilot_form_values(pilot: Any) -> dict[str, Any]:
    if pilot is None:
        return {"languages": "en"}
    return {
        "name": pilot.name,
        "region": pilot.region,
        "council": pilot.council,
        "languages": ", ".join(pilot.languages),
        "starts_on": pilot.starts_on.isoformat(),
        "ends_on": pilot.ends_on.isoformat(),
        "contact_email": pilot.contact_email,
        "contact_phone": pilot.contact_phone,
        "accessibility_url": pilot.accessibility_url or "",
        "accessibility_statement": pilot.accessibility_statement,
    }


def _pilot_data(form: FormData) -> dict[str, Any]:
    data = form_dict(form)
    data["languages"] = [
        c.strip() for c in str(form.get("languages", "")).replace(";", ",").split(",") if c.strip()
    ]
    return data


async def pilot_form(request: Request, actor: Actor) -> Response:
    """Create a pilot (/council/pilots/new) or change one (/council/pilots/{id}/edit)."""
    pilot = None
    if "pilot_id" in request.path_params:
        async with runtime(request).db() as db:
            pilot = await pilot_store.get_pilot(db, actor, pid(request), Permission.MANAGE_PILOT)
    else:
        actor.require_site_admin()
    values: dict[str, Any] = _pilot_form_values(pilot)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        values = dict(form)
        try:
            spec = parse(PilotSpec, _pilot_data(form))
            async with runtime(request).db.begin() as db:
                if pilot is None:
                    pilot = await pilot_store.create_pilot(db, actor, spec)
                else:
                    await pilot_store.update_pilot(db, actor, pilot.id, spec)
            return see_other(f"/council/pilots/{pilot.id}")
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors, {"__root__": "ends_on"})
    return render(
        request,
        "council/pilot_form.html",
        {"values": values, "errors": errors, "pilot": pilot},
        status_code=422 if errors else 200,
    )


async def pilot_overview(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, pid(request), Permission.VIEW_PILOT)
        areas = await pilot_store.list_areas(db, pilot.id)
        roles = await pilot_store.list_roles(db, pilot.id)
        polls = await poll_store.list_polls(db, pilot.id)
    return render(
        request,
        "council/pilot.html",
        {
            "pilot": pilot,
            "areas": areas,
            "roles": roles,
            "polls": polls,
            "role_labels": ROLE_LABELS,
            "status_labels": STATUS_LABELS,
            "can_manage": actor.can(Permission.MANAGE_PILOT, pilot.id),
        },
    )


# Areas


def _area_data(form: FormData) -> dict[str, Any]:
    raw = str(form.get("postcodes", ""))
    return {
        "name": str(form.get("name", "")),
        "code": str(form.get("code", "")).strip(),
        "postcodes": [p for p in raw.replace(";", "\n").replace(",", "\n").splitlines() if p.strip()],
    }


async def areas_page(request: Request, actor: Actor) -> Response:
    pilot_id = pid(request)
    errors: dict[str, str] = {}
    import_errors: list[Any] = []
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        form = await read_form(request)
        upload = form.get("file")
        try:
            async with runtime(request).db.begin() as db:
                if isinstance(upload, UploadFile):
                    await _import_upload(db, actor, pilot_id, upload)
                else:
                    values = dict(form)
                    await pilot_store.add_area(db, actor, pilot_id, parse(AreaSpec, _area_data(form)))
            return see_other(f"/council/pilots/{pilot_id}/areas")
        except ValidationFailed as exc:
            status = 422
            if isinstance(upload, UploadFile):
                import_errors = exc.errors
                errors = {"file": exc.message}
            else:
                errors = errors_by_field(exc.errors)
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, pilot_id, Permission.VIEW_PILOT)
        areas = await pilot_store.list_areas(db, pilot_id)
    return render(
        request,
        "council/areas.html",
        {
            "pilot": pilot,
            "areas": areas,
            "errors": errors,
            "values": values,
            "import_errors": import_errors,
            "can_manage": actor.can(Permission.MANAGE_PILOT, pilot_id),
        },
        status_code=status,
    )


async def _import_upload(db: AsyncSession, actor: Actor, pilot_id: int, upload: UploadFile) -> None:
    try:
        raw = await upload.read()
    finally:
        await upload.close()
    if not raw:
        raise ValidationFailed.one("file", "Choose a CSV file to upload")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.one("file", "Save the file as UTF-8 CSV and upload it again") from None
    await pilot_store.import_areas(db, actor, pilot_id, parse_area_csv(text))


async def edit_area(request: Request, actor: Actor) -> Response:
    pilot_id, area_id = pid(request), pid(request, "area_id")
    async with runtime(request).db() as db:
        area = await pilot_store.get_area(db, actor, pilot_id, area_id, Permission.MANAGE_PILOT)
        pilot = await pilot_store.get_pilot(db, actor, pilot_id, Permission.MANAGE_PILOT)
    values: dict[str, Any] = {
        "name": area.name,
        "code": area.code,
        "postcodes": "\n".join(area.postcodes),
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        values = dict(form)
        try:
            async with runtime(request).db.begin() as db:
                await pilot_store.update_area(db, actor, pilot_id, area_id, parse(AreaSpec, _area_data(form)))
            return see_other(f"/council/pilots/{pilot_id}/areas")
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors)
    return render(
        request,
        "council/area_form.html",
        {"pilot": pilot, "area": area, "values": values, "errors": errors},
        status_code=422 if errors else 200,
    )


async def delete_area(request: Request, actor: Actor) -> Response:
    await read_form(request)
    pilot_id = pid(request)
    async with runtime(request).db.begin() as db:
        await pilot_store.delete_area(db, actor, pilot_id, pid(request, "area_id"))
    return see_other(f"/council/pilots/{pilot_id}/areas")


# Staff


async def staff_page(request: Request, actor: Actor) -> Response:
    pilot_id = pid(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    invitation = None
    status = 200
    if request.method == "POST":
        form = await read_form(request)
        values = dict(form)
        try:
            spec = parse(StaffRoleSpec, {"email": form.get("email", ""), "role": form.get("role", "")})
            async with runtime(request).db.begin() as db:
                role, created = await pilot_store.set_role(
                    db, actor, pilot_id, spec, name=str(form.get("name", ""))
                )
                if created:
                    invitation = {
                        "email": role.staff.email,
                        "link": invite_link(request, role.staff),
                    }
            values = {}
            status = 201 if created else 200
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors)
            status = 422
        except PollsError as exc:
            errors = {"email": exc.message}
            status = exc.status
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, pilot_id, Permission.VIEW_PILOT)
        roles = await pilot_store.list_roles(db, pilot_id)
    return render(
        request,
        "council/staff.html",
        {
            "pilot": pilot,
            "roles": roles,
            "errors": errors,
            "values": values,
            "invitation": invitation,
            "role_labels": ROLE_LABELS,
            "can_manage": actor.can(Permission.MANAGE_PILOT, pilot_id),
        },
        status_code=status,
    )


async def remove_staff(request: Request, actor: Actor) -> Response:
    await read_form(request)
    pilot_id = pid(request)
    async with runtime(request).db.begin() as db:
        await pilot_store.remove_role(db, actor, pilot_id, pid(request, "staff_id"))
    return see_other(f"/council/pilots/{pilot_id}/staff")


async def audit_page(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilot = await pilot_store.get_pilot(db, actor, pid(request), Permission.MANAGE_PILOT)
        entries = await audit.recent(db, pilot_id=pilot.id, limit=200)
    return render(request, "council/audit.html", {"pilot": pilot, "entries": entries})


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
        return {"results_visibility": "after_close", "assurance": "poll_card", "area_ids": []}
    return {
        "title": poll.title,
        "description": poll.description,
        "area_ids": [str(a.id) for a in poll.areas],
        "opens_at": poll.opens_at,
        "closes_at": poll.closes_at,
        "results_visibility": poll.results_visibility,
        "assurance": poll.assurance,
    }


async def poll_form(request: Request, actor: Actor) -> Response:
    """Draft a poll (/council/pilots/{id}/polls/new) or change a draft (/council/polls/{id}/edit)."""
    poll = None
    async with runtime(request).db() as db:
        if "poll_id" in request.path_params:
            poll = await poll_store.get_poll(db, actor, pid(request, "poll_id"), Permission.MANAGE_PILOT)
            pilot_id = poll.pilot_id
        else:
            pilot_id = pid(request)
        pilot = await pilot_store.get_pilot(db, actor, pilot_id, Permission.MANAGE_PILOT)
        areas = await pilot_store.list_areas(db, pilot_id)
    values: dict[str, Any] = _poll_values(poll)
    errors: dict[str, str] = {}
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
        "timezone": runtime(request).settings.timezone,
    }
    return render(request, "council/poll_form.html", context, status_code=422 if errors else 200)


async def poll_page(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        poll = await poll_store.get_poll(db, actor, pid(request, "poll_id"), Permission.VIEW_PILOT)
        pilot = await pilot_store.get_pilot(db, actor, poll.pilot_id, Permission.VIEW_PILOT)
        areas = await pilot_store.list_areas(db, pilot.id)
    turnout = None
    if PollStatus(poll.status) not in (PollStatus.DRAFT, PollStatus.SCHEDULED):
        # Officers always see turnout, whatever residents may see of the results.
        counts = await runtime(request).tallies.read(poll.id)
        shown = poll.areas or areas
        turnout = {
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
            "turnout": turnout,
            "status_labels": STATUS_LABELS,
            "kind_labels": KIND_LABELS,
            "visibility_labels": VISIBILITY_LABELS,
            "assurance_labels": ASSURANCE_LABELS,
            "actions": allowed_actions(poll_store.facts(poll)),
            "action_labels": ACTION_LABELS,
            "editable": is_editable(PollStatus(poll.status)),
            "can_manage": actor.can(Permission.MANAGE_PILOT, pilot.id),
            "kinds": list(QuestionKind),
            "language_names": LANGUAGE_NAMES,
        },
    )


async def poll_action(request: Request, actor: Actor) -> Response:
    await read_form(request)
    poll_id = pid(request, "poll_id")
    try:
        action = Action(request.path_params["action"])
    except ValueError:
        raise ValidationFailed.one("action", "Unknown action") from None
    async with runtime(request).db.begin() as db:
        await poll_lifecycle.transition(db, actor, poll_id, action)
    if action is Action.REVIEW:  # the review happens on the official results page
        return see_other(f"/council/polls/{poll_id}/results")
    return see_other(f"/council/polls/{poll_id}")


# Questions


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
    "ranked": ("seats",),
    "scale": ("scale_min", "scale_max", "min_label", "max_label"),
    "budget": ("budget_total",),
    "comment": ("max_length",),
}


async def question_form(request: Request, actor: Actor) -> Response:
    poll_id = pid(request, "poll_id")
    question_id = request.path_params.get("question_id")
    async with runtime(request).db() as db:
        poll = await poll_store.get_poll(db, actor, poll_id, Permission.MANAGE_PILOT)
        pilot = await pilot_store.get_pilot(db, actor, poll.pilot_id, Permission.MANAGE_PILOT)
    if not is_editable(PollStatus(poll.status)):
        raise Conflict("Questions can only change while the poll is a draft", code="poll_not_editable")
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
        },
        status_code=422 if errors else 200,
    )


async def move_question(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    poll_id = pid(request, "poll_id")
    offset = -1 if form.get("direction") == "up" else 1
    async with runtime(request).db.begin() as db:
        await poll_store.move_question(db, actor, poll_id, pid(request, "question_id"), offset)
    return see_other(f"/council/polls/{poll_id}#questions")


async def delete_question(request: Request, actor: Actor) -> Response:
    await read_form(request)
    poll_id = pid(request, "poll_id")
    async with runtime(request).db.begin() as db:
        await poll_store.delete_question(db, actor, poll_id, pid(request, "question_id"))
    return see_other(f"/council/polls/{poll_id}#questions")


GET, BOTH, POST = ["GET"], ["GET", "POST"], ["POST"]

routes = [
    Route("/council", page(home), methods=GET),
    Route("/council/pilots/new", page(pilot_form), methods=BOTH),
    Route("/council/pilots/{pilot_id:id}", page(pilot_overview), methods=GET),
    Route("/council/pilots/{pilot_id:id}/edit", page(pilot_form), methods=BOTH),
    Route("/council/pilots/{pilot_id:id}/areas", page(areas_page), methods=BOTH),
    Route("/council/pilots/{pilot_id:id}/areas/{area_id:id}/edit", page(edit_area), methods=BOTH),
    Route("/council/pilots/{pilot_id:id}/areas/{area_id:id}/delete", page(delete_area), methods=POST),
    Route("/council/pilots/{pilot_id:id}/staff", page(staff_page), methods=BOTH),
    Route(
        "/council/pilots/{pilot_id:id}/staff/{staff_id:id}/remove",
        page(remove_staff),
        methods=POST,
    ),
    Route("/council/pilots/{pilot_id:id}/audit", page(audit_page), methods=GET),
    Route("/council/pilots/{pilot_id:id}/polls/new", page(poll_form), methods=BOTH),
    Route("/council/polls/{poll_id:id}", page(poll_page), methods=GET),
    Route("/council/polls/{poll_id:id}/edit", page(poll_form), methods=BOTH),
    Route("/council/polls/{poll_id:id}/actions/{action}", page(poll_action), methods=POST),
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
