"""Pilots through the API: the pilot itself, its areas, its staff and their roles, its audit log."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor, Permission
from polls.domain.pilots import AreaSpec, PilotSpec, StaffRoleSpec, parse_area_csv
from polls.domain.validation import parse
from polls.errors import BodyTooLarge, ErrorCode, PollsError, ValidationFailed
from polls.http.api.kit import ApiRoute, ok, read_json
from polls.http.council.sign_in import email_invitation
from polls.http.kit.forms import path_int
from polls.http.kit.guards import pilot_staff, staff_only
from polls.runtime import runtime
from polls.store import audit
from polls.store import pilots as pilot_store
from polls.store.models import AuditEntry, Pilot


class StaffRoleBody(StaffRoleSpec):
    name: str = Field(default="", max_length=120)


# Pilots


@staff_only
async def list_pilots(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        pilots = await pilot_store.list_pilots(db, actor)
        return ok([pilot_store.pilot_snapshot(p) for p in pilots])


@staff_only
async def create_pilot(request: Request, actor: Actor) -> Response:
    spec = parse(PilotSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        pilot = await pilot_store.create_pilot(db, actor, spec)
        return ok(pilot_store.pilot_snapshot(pilot), 201)


@staff_only
@pilot_staff(Permission.VIEW_PILOT)
async def get_pilot(request: Request, actor: Actor, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        areas = await pilot_store.list_areas(db, pilot.id)
    return ok(pilot_store.pilot_snapshot(pilot) | {"areas": [pilot_store.area_snapshot(a) for a in areas]})


@staff_only
async def update_pilot(request: Request, actor: Actor) -> Response:
    spec = parse(PilotSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        pilot = await pilot_store.update_pilot(db, actor, path_int(request, "pilot_id"), spec)
        return ok(pilot_store.pilot_snapshot(pilot))


# Areas


@staff_only
@pilot_staff(Permission.VIEW_PILOT)
async def list_areas(request: Request, actor: Actor, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        return ok([pilot_store.area_snapshot(a) for a in await pilot_store.list_areas(db, pilot.id)])


@staff_only
async def add_area(request: Request, actor: Actor) -> Response:
    spec = parse(AreaSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        area = await pilot_store.add_area(db, actor, path_int(request, "pilot_id"), spec)
        return ok(pilot_store.area_snapshot(area), 201)


@staff_only
async def update_area(request: Request, actor: Actor) -> Response:
    spec = parse(AreaSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        area = await pilot_store.update_area(
            db, actor, path_int(request, "pilot_id"), path_int(request, "area_id"), spec
        )
        return ok(pilot_store.area_snapshot(area))


@staff_only
async def delete_area(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        await pilot_store.delete_area(db, actor, path_int(request, "pilot_id"), path_int(request, "area_id"))
    return Response(status_code=204)


@staff_only
async def import_areas(request: Request, actor: Actor) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media not in ("text/csv", "text/plain"):
        raise PollsError(
            "Send the CSV file as the body with Content-Type: text/csv",
            code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        )
    raw = await request.body()
    if len(raw) > 5_000_000:
        raise BodyTooLarge("The file is larger than 5 MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.one("file", "Save the file as UTF-8 CSV and upload it again") from None
    parsed = parse_area_csv(text)
    async with runtime(request).db.begin() as db:
        areas = await pilot_store.import_areas(db, actor, path_int(request, "pilot_id"), parsed)
        return ok({"imported": len(areas), "areas": [pilot_store.area_snapshot(a) for a in areas]}, 201)


# Staff roles


@staff_only
@pilot_staff(Permission.VIEW_PILOT)
async def list_staff(request: Request, actor: Actor, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        return ok([pilot_store.role_snapshot(r) for r in await pilot_store.list_roles(db, pilot.id)])


@staff_only
async def set_staff_role(request: Request, actor: Actor) -> Response:
    body = parse(StaffRoleBody, await read_json(request))
    spec = StaffRoleSpec(email=body.email, role=body.role)
    async with runtime(request).db.begin() as db:
        role, created = await pilot_store.set_role(
            db, actor, path_int(request, "pilot_id"), spec, name=body.name
        )
        result = pilot_store.role_snapshot(role)
        if created:
            pilot = await pilot_store.get_pilot(db, actor, role.pilot_id, Permission.VIEW_PILOT)
            result["invitation_link"] = await email_invitation(request, db, role, pilot)
        return ok(result, 201 if created else 200)


@staff_only
async def remove_staff_role(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        await pilot_store.remove_role(db, actor, path_int(request, "pilot_id"), path_int(request, "staff_id"))
    return Response(status_code=204)


# Audit


def _entry(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
    }


@staff_only
@pilot_staff(Permission.MANAGE_PILOT)
async def pilot_audit(request: Request, actor: Actor, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        return ok([_entry(e) for e in await audit.recent(db, pilot_id=pilot.id, limit=500)])


OPERATIONS: list[ApiRoute] = [
    ApiRoute("GET", "/api/pilots", list_pilots, "Pilots you have a role in"),
    ApiRoute("POST", "/api/pilots", create_pilot, "Create a pilot (site admins)", PilotSpec),
    ApiRoute("GET", "/api/pilots/{pilot_id:id}", get_pilot, "A pilot with its areas"),
    ApiRoute("PUT", "/api/pilots/{pilot_id:id}", update_pilot, "Change a pilot", PilotSpec),
    ApiRoute("GET", "/api/pilots/{pilot_id:id}/areas", list_areas, "A pilot's areas"),
    ApiRoute("POST", "/api/pilots/{pilot_id:id}/areas", add_area, "Add an area", AreaSpec),
    ApiRoute(
        "POST",
        "/api/pilots/{pilot_id:id}/areas/import",
        import_areas,
        "Import areas from CSV (columns name, code, postcodes); all rows or none",
        body_media="text/csv",
    ),
    ApiRoute(
        "PUT",
        "/api/pilots/{pilot_id:id}/areas/{area_id:id}",
        update_area,
        "Change an area",
        AreaSpec,
    ),
    ApiRoute(
        "DELETE",
        "/api/pilots/{pilot_id:id}/areas/{area_id:id}",
        delete_area,
        "Delete an unused area",
    ),
    ApiRoute("GET", "/api/pilots/{pilot_id:id}/staff", list_staff, "Staff and their roles in a pilot"),
    ApiRoute(
        "PUT",
        "/api/pilots/{pilot_id:id}/staff",
        set_staff_role,
        "Give someone a role (creates their account and emails them an invitation link if new)",
        StaffRoleBody,
    ),
    ApiRoute(
        "DELETE",
        "/api/pilots/{pilot_id:id}/staff/{staff_id:id}",
        remove_staff_role,
        "Remove a role",
    ),
    ApiRoute(
        "GET",
        "/api/pilots/{pilot_id:id}/audit",
        pilot_audit,
        "The pilot's audit log, newest first",
    ),
]
