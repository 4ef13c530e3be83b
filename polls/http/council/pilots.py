"""Officer pages for pilots, their areas and staff, and the audit log; they work without JavaScript."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.domain.access import Actor, Permission
from polls.domain.audit_text import describe
from polls.domain.pilots import ROLE_LABELS, AreaSpec, PilotSpec, StaffRoleSpec, parse_area_csv
from polls.domain.polls import STATUS_LABELS
from polls.domain.validation import parse
from polls.errors import PollsError, ValidationFailed
from polls.http.council.sign_in import email_invitation
from polls.http.kit.forms import errors_by_field, form_dict, path_int, read_form, see_other
from polls.http.kit.guards import page, pilot_staff
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import audit, sign_ins
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.models import Pilot

# Pilots


async def home(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilots = await pilot_store.list_pilots(db, actor)
        invitations = await pilot_store.pending_invitations(db, actor.staff_id)
    return render(
        request,
        "council/home.html",
        {"pilots": pilots, "invitations": invitations, "role_labels": ROLE_LABELS},
    )


async def answer_invitation(request: Request, actor: Actor) -> Response:
    """Someone who already had an account, added to a pilot by its admin, says yes or no."""
    await read_form(request)
    async with runtime(request).db.begin() as db:
        await pilot_store.accept_role(
            db, actor.staff_id, path_int(request, "pilot_id"), accept=request.url.path.endswith("/accept")
        )
    return see_other("/council")


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
        "paper_second_officer": pilot.paper_second_officer,
    }


def _pilot_data(form: FormData) -> dict[str, Any]:
    data = form_dict(form)
    data["languages"] = [
        c.strip() for c in str(form.get("languages", "")).replace(";", ",").split(",") if c.strip()
    ]
    data["paper_second_officer"] = form.get("paper_second_officer") == "yes"
    return data


async def new_pilot(request: Request, actor: Actor) -> Response:
    actor.require_site_admin()
    return await _pilot_form(request, actor, None)


@pilot_staff(Permission.MANAGE_PILOT)
async def edit_pilot(request: Request, actor: Actor, pilot: Pilot) -> Response:
    return await _pilot_form(request, actor, pilot)


async def _pilot_form(request: Request, actor: Actor, pilot: Pilot | None) -> Response:
    """Create a pilot (/council/pilots/new) or change one (/council/pilots/{id}/edit)."""
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


@pilot_staff(Permission.VIEW_PILOT)
async def pilot_overview(request: Request, actor: Actor, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        areas = await pilot_store.list_areas(db, pilot.id)
        roles = await pilot_store.list_roles(db, pilot.id)
        polls = await poll_store.list_polls(db, pilot.id)
        moves = await audit.poll_moves(db, pilot.id)
    return render(
        request,
        "council/pilot.html",
        {
            "pilot": pilot,
            "areas": areas,
            "roles": roles,
            "polls": polls,
            "moves": moves,
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


@pilot_staff(Permission.VIEW_PILOT)
async def areas_page(request: Request, actor: Actor, pilot: Pilot) -> Response:
    pilot_id = pilot.id
    errors: dict[str, str] = {}
    import_errors: list[Any] = []
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        form = await read_form(request)
        upload = form.get("file")
        try:
            if isinstance(upload, UploadFile):
                parsed = parse_area_csv(await _read_csv(upload))
                async with runtime(request).db.begin() as db:
                    await pilot_store.import_areas(db, actor, pilot_id, parsed)
            else:
                values = dict(form)
                async with runtime(request).db.begin() as db:
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


async def _read_csv(upload: UploadFile) -> str:
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
    return text


@pilot_staff(Permission.MANAGE_PILOT)
async def edit_area(request: Request, actor: Actor, pilot: Pilot) -> Response:
    pilot_id, area_id = pilot.id, path_int(request, "area_id")
    async with runtime(request).db() as db:
        area = await pilot_store.area_in_pilot(db, pilot_id, area_id)
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
    pilot_id = path_int(request, "pilot_id")
    async with runtime(request).db.begin() as db:
        await pilot_store.delete_area(db, actor, pilot_id, path_int(request, "area_id"))
    return see_other(f"/council/pilots/{pilot_id}/areas")


# Staff


@pilot_staff(Permission.VIEW_PILOT)
async def staff_page(request: Request, actor: Actor, pilot: Pilot) -> Response:
    pilot_id = pilot.id
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
                        "link": await email_invitation(request, db, role, pilot),
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
    pilot_id = path_int(request, "pilot_id")
    async with runtime(request).db.begin() as db:
        await pilot_store.remove_role(db, actor, pilot_id, path_int(request, "staff_id"))
    return see_other(f"/council/pilots/{pilot_id}/staff")


async def sign_out_staff(request: Request, actor: Actor) -> Response:
    """Ends every session of a person (a lost laptop, someone leaving): they must sign in again."""
    await read_form(request)
    pilot_id = path_int(request, "pilot_id")
    async with runtime(request).db.begin() as db:
        await sign_ins.sign_out_everywhere(db, actor, path_int(request, "staff_id"))
    return see_other(f"/council/pilots/{pilot_id}/staff")


@pilot_staff(Permission.MANAGE_PILOT)
async def audit_page(request: Request, actor: Actor, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        entries = await audit.recent(db, pilot_id=pilot.id, limit=200)
    rows = [(e, describe(e.action, e.target, e.after)) for e in entries]
    return render(request, "council/audit.html", {"pilot": pilot, "rows": rows})


GET, BOTH, POST = ["GET"], ["GET", "POST"], ["POST"]

routes = [
    Route("/council", page(home), methods=GET),
    Route("/council/pilots/new", page(new_pilot), methods=BOTH),
    Route("/council/invitations/{pilot_id:id}/accept", page(answer_invitation), methods=POST),
    Route("/council/invitations/{pilot_id:id}/decline", page(answer_invitation), methods=POST),
    Route("/council/pilots/{pilot_id:id}", page(pilot_overview), methods=GET),
    Route("/council/pilots/{pilot_id:id}/edit", page(edit_pilot), methods=BOTH),
    Route("/council/pilots/{pilot_id:id}/areas", page(areas_page), methods=BOTH),
    Route("/council/pilots/{pilot_id:id}/areas/{area_id:id}/edit", page(edit_area), methods=BOTH),
    Route("/council/pilots/{pilot_id:id}/areas/{area_id:id}/delete", page(delete_area), methods=POST),
    Route("/council/pilots/{pilot_id:id}/staff", page(staff_page), methods=BOTH),
    Route(
        "/council/pilots/{pilot_id:id}/staff/{staff_id:id}/remove",
        page(remove_staff),
        methods=POST,
    ),
    Route(
        "/council/pilots/{pilot_id:id}/staff/{staff_id:id}/sign-out",
        page(sign_out_staff),
        methods=POST,
    ),
    Route("/council/pilots/{pilot_id:id}/audit", page(audit_page), methods=GET),
]
