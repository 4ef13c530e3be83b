"""Officer pages for citizens' juries: set up, upload the pool, compute, publish and draw, invite.

Council admins change things; moderators and analysts of the pilot see the same pages read-only.
The lottery is computed in the background (``start_solving``); the jury page refreshes itself
while it runs, without JavaScript. The JSON API is in ``polls.http.api.juries``, the public and
invitation pages in ``polls.http.juries.public``.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Coroutine
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.juries import (
    JUROR_STATUS_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    DrawSpec,
    JurorStatus,
    JurySpec,
    JuryStatus,
    panel_profile,
    read_pool_files,
)
from polls.domain.sortition.randomness import PublishSpec, describe
from polls.domain.spreadsheets import spreadsheet_safe
from polls.domain.validation import parse
from polls.errors import FieldError, PollsError, ValidationFailed
from polls.http.council import confirm
from polls.http.kit.forms import errors_by_field, path_int, read_form, see_other
from polls.http.kit.guards import jury_staff, page, pilot_staff, staff_jury
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import juries as jury_store
from polls.store import jurors as juror_store
from polls.store import lotteries as lottery_store
from polls.store import messages as outbox
from polls.store.db import Database
from polls.store.jurors import InvitationRow
from polls.store.models import Jury, Pilot

NO_STORE = {"Cache-Control": "no-store"}  # invitation links must not linger in caches
INVITATION_COLUMNS = ["id", "role", "seat", "link", "expires"]

_solving: set[asyncio.Task[None]] = set()  # strong references, so running solves are not collected


def start_solving(db: Database, jury_id: int, run: str) -> None:
    """Compute the lottery in the background; progress and the result land on the jury row."""
    coroutine: Coroutine[Any, Any, None] = lottery_store.compute_lottery(db, jury_id, run)
    task = asyncio.create_task(coroutine)
    _solving.add(task)
    task.add_done_callback(_solving.discard)


def jury_form_data(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ("title", "remit", "kind")}
    for number in ("size", "threshold"):
        raw = str(form.get(number, "")).strip()
        if raw:
            data[number] = raw
    data["households_apart"] = form.get("households_apart") == "yes"
    if not data["kind"]:
        del data["kind"]
    return data


def jury_values(jury: Jury) -> dict[str, Any]:
    return {
        "title": jury.title,
        "remit": jury.remit,
        "kind": jury.kind,
        "size": str(jury.size),
        "threshold": str(jury.threshold),
        "households_apart": "yes" if jury.households_apart else "",
    }


def invitations_csv(rows: list[InvitationRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INVITATION_COLUMNS)
    for row in rows:
        cells = [row.person_id, row.role, row.seat or "", row.link, row.expires_at.isoformat()]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return out.getvalue()


def csv_download(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


# Pages


@pilot_staff(Permission.VIEW_PILOT)
async def juries_page(request: Request, actor: Actor, pilot: Pilot) -> Response:
    """A pilot's juries, and (council admins) the form to set up a new one."""
    pilot_id = pilot.id
    values: dict[str, Any] = {"kind": "jury", "threshold": "75"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        try:
            async with runtime(request).db.begin() as db:
                jury = await jury_store.create_jury(
                    db, actor, pilot_id, parse(JurySpec, jury_form_data(form))
                )
            return see_other(f"/council/juries/{jury.id}")
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors, {"__root__": "size"})
    async with runtime(request).db() as db:
        juries = await jury_store.list_juries(db, actor, pilot_id)
    return render(
        request,
        "juries/list.html",
        {
            "pilot": pilot,
            "juries": juries,
            "values": values,
            "errors": errors,
            "kind_choices": list(KIND_LABELS.items()),
            "status_labels": STATUS_LABELS,
            "can_manage": actor.can(Permission.MANAGE_PILOT, pilot_id),
        },
        status_code=422 if errors else 200,
    )


@jury_staff(Permission.MANAGE_PILOT)
async def edit_jury(request: Request, actor: Actor, jury: Jury, pilot: Pilot) -> Response:
    jury_id = jury.id
    values, errors = jury_values(jury), {}
    if request.method == "POST":
        form = await read_form(request)
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        try:
            async with runtime(request).db.begin() as db:
                await jury_store.update_jury(db, actor, jury_id, parse(JurySpec, jury_form_data(form)))
            return see_other(f"/council/juries/{jury_id}")
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors, {"__root__": "size"})
        except PollsError as exc:
            if exc.code not in ("jury_wrong_status", "lottery_computing"):
                raise
            errors = {"size": exc.message}
    return render(
        request,
        "juries/form.html",
        {
            "pilot": pilot,
            "jury": jury,
            "values": values,
            "errors": errors,
            "kind_choices": list(KIND_LABELS.items()),
        },
        status_code=422 if errors else 200,
    )


@jury_staff(Permission.VIEW_PILOT)
async def jury_page(request: Request, actor: Actor, jury: Jury, pilot: Pilot) -> Response:
    return await _render_jury(request, actor, jury, pilot)


async def show_again(request: Request, actor: Actor, **shown: Any) -> Response:
    """The jury page after a refused change, as the jury stands now."""
    jury, pilot = await staff_jury(request, actor, Permission.VIEW_PILOT)
    return await _render_jury(request, actor, jury, pilot, **shown)


async def _render_jury(
    request: Request,
    actor: Actor,
    jury: Jury,
    pilot: Pilot,
    *,
    errors: dict[str, str] | None = None,
    upload_errors: list[FieldError] | None = None,
    values: dict[str, Any] | None = None,
    status: int | None = None,
) -> Response:
    async with runtime(request).db() as db:
        members = await jury_store.pool_members(db, jury.id)
        jurors = await juror_store.list_jurors(db, jury.id)
        messages = await outbox.messages_of(db, jury_id=jury.id)
    quotas = jury_store.quotas_of(jury)
    features = [m.features for m in members]
    drawn = set((jury.draw or {}).get("panel", []))
    accepted = [j.pool_member.features for j in jurors if j.status == JurorStatus.ACCEPTED]
    running = jury_store.solve_is_running(jury)
    solve = jury.solve or {}
    return render(
        request,
        "juries/jury.html",
        {
            "pilot": pilot,
            "jury": jury,
            "status_labels": STATUS_LABELS,
            "kind_labels": KIND_LABELS,
            "juror_labels": JUROR_STATUS_LABELS,
            "people": len(members),
            "pool_profile": panel_profile(quotas, features, []),
            "drawn_profile": panel_profile(
                quotas, features, [m.features for m in members if m.person_id in drawn]
            )
            if drawn
            else [],
            "accepted_profile": panel_profile(quotas, features, accepted) if accepted else [],
            "solving": running,
            "solve_failed": solve.get("state") == "failed",
            "solve_stopped": solve.get("state") == "running" and not running,
            "solve": solve,
            "facts": jury.lottery_facts or {},
            "jurors": jurors,
            "messages": messages,
            "languages": pilot.languages,
            "needs_link": [
                j for j in jurors if j.status == JurorStatus.INVITED and j.link_exported_at is None
            ],
            "empty_seats": _empty_seats(jury, jurors),
            "errors": errors or {},
            "upload_errors": upload_errors or [],
            "values": values or {"reserves": str(jury.size), "household_columns": "household"},
            "can_manage": actor.can(Permission.MANAGE_PILOT, jury.pilot_id),
            "randomness": describe(jury.randomness_source) if jury.randomness_source else None,
            "S": JuryStatus,
        },
        status_code=status or (422 if errors else 200),
    )


def _empty_seats(jury: Jury, jurors: list[Any]) -> list[int]:
    """Seats nobody holds or is invited to (no reserve left to ask)."""
    if not jurors:
        return []
    held = {j.seat for j in jurors if j.status in (JurorStatus.INVITED, JurorStatus.ACCEPTED)}
    return [seat for seat in range(1, jury.size + 1) if seat not in held]


async def _read_upload(upload: Any, field: str, what: str) -> str:
    if not isinstance(upload, UploadFile):
        raise ValidationFailed.one(field, f"Choose the {what} file (CSV)")
    try:
        raw = await upload.read()
    finally:
        await upload.close()
    if not raw:
        raise ValidationFailed.one(field, f"Choose the {what} file (CSV); the one chosen is empty")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.one(
            field, f"Save the {what} file as 'CSV UTF-8' and upload it again"
        ) from None


def household_columns(raw: str, households_apart: bool) -> tuple[str, ...]:
    columns = tuple(c.strip() for c in raw.split(",") if c.strip())
    if not households_apart:
        return ()
    return columns or ("household",)


@jury_staff(Permission.MANAGE_PILOT)
async def upload_pool(request: Request, actor: Actor, jury: Jury, pilot: Pilot) -> Response:
    jury_id = jury.id
    form = await read_form(request)
    values = {k: str(form.get(k, "")) for k in ("id_column", "household_columns")}
    try:
        people = await _read_upload(form.get("people"), "people", "people")
        categories = await _read_upload(form.get("categories"), "categories", "categories")
        # A large file takes a while to check line by line: off the event loop.
        pool = await asyncio.to_thread(
            read_pool_files,
            people,
            categories,
            id_column=values["id_column"].strip() or None,
            household_columns=household_columns(values["household_columns"], jury.households_apart),
        )
        async with runtime(request).db.begin() as db:
            await jury_store.replace_pool(db, actor, jury_id, pool)
    except ValidationFailed as exc:
        return await show_again(
            request,
            actor,
            errors={exc.errors[0].field: exc.message},
            upload_errors=exc.errors,
            values=values,
        )
    except PollsError as exc:
        if exc.code not in ("jury_wrong_status", "lottery_computing"):
            raise
        return await show_again(request, actor, errors={"people": exc.message}, status=exc.status)
    return see_other(f"/council/juries/{jury_id}")


async def compute(request: Request, actor: Actor) -> Response:
    jury_id = path_int(request, "jury_id")
    rt = runtime(request)
    async with rt.db.begin() as db:
        run = await lottery_store.start_lottery(db, actor, jury_id)
    start_solving(rt.db, jury_id, run)
    return see_other(f"/council/juries/{jury_id}")


def publish_form_data(form: FormData) -> dict[str, Any]:
    """The publication form as PublishSpec reads it: dice people are one "name, SHA-256" a line."""
    kind = str(form.get("randomness_kind", "")).strip()
    if kind == "lottery":
        source: dict[str, Any] = {"kind": "lottery", "name": str(form.get("lottery_name", "")).strip()}
        if str(form.get("lottery_date", "")).strip():
            source["date"] = str(form.get("lottery_date", "")).strip()
        return {"randomness": source}
    people = []
    for line in str(form.get("dice_people", "")).splitlines():
        if line.strip():
            name, _, digest = line.rpartition(",")
            people.append({"name": name.strip(), "sha256": digest.strip()})
    return {"randomness": {"kind": "dice", "people": people} if kind == "dice" else {}}


def _publish_field(path: str) -> str:
    """The publication form's field for a PublishSpec error path."""
    for part, field in (("people", "dice_people"), ("name", "lottery_name"), ("date", "lottery_date")):
        if part in path.split("."):
            return field
    return "randomness_kind"


async def publish(request: Request, actor: Actor) -> Response:
    jury_id = path_int(request, "jury_id")
    form = await read_form(request)
    fields = ("randomness_kind", "dice_people", "lottery_name", "lottery_date")
    values = {k: str(form.get(k, "")).strip() for k in fields}
    try:
        spec = parse(PublishSpec, publish_form_data(form))
        async with runtime(request).db.begin() as db:
            await jury_store.publish_lottery(db, actor, jury_id, spec)
    except ValidationFailed as exc:
        errors: dict[str, str] = {}
        for e in exc.errors:
            errors.setdefault(_publish_field(e.field), e.message)
        return await show_again(request, actor, errors=errors, values=values)
    return see_other(f"/council/juries/{jury_id}")


async def draw(request: Request, actor: Actor) -> Response:
    jury_id = path_int(request, "jury_id")
    form = await read_form(request)
    values = {k: str(v).strip() for k, v in form.items() if k == "reserves" or k.startswith("reveals.")}
    reveals = [values.get(f"reveals.{n}", "") for n in range(10) if f"reveals.{n}" in values]
    data: dict[str, Any] = {"reveals": reveals}
    if values.get("reserves"):
        data["reserves"] = values["reserves"]
    try:
        spec = parse(DrawSpec, data)
        async with runtime(request).db.begin() as db:
            await jury_store.draw_jury(db, actor, jury_id, spec)
    except ValidationFailed as exc:
        return await show_again(request, actor, errors=errors_by_field(exc.errors), values=values)
    return see_other(f"/council/juries/{jury_id}")


async def invite(request: Request, actor: Actor) -> Response:
    jury_id = path_int(request, "jury_id")
    async with runtime(request).db.begin() as db:
        await juror_store.open_invitations(db, actor, jury_id)
    return see_other(f"/council/juries/{jury_id}")


async def download_invitations(request: Request, actor: Actor) -> Response:
    """POST, since it marks the invitations as handed over (and is audited)."""
    jury_id = path_int(request, "jury_id")
    form = await read_form(request)
    rt = runtime(request)
    async with rt.db.begin() as db:
        rows = await juror_store.export_invitations(
            db, actor, jury_id, rt.tokens, rt.settings.base_url, only_new=form.get("only_new") == "yes"
        )
    return csv_download(invitations_csv(rows), f"jury{jury_id}-invitations.csv")


async def expire(request: Request, actor: Actor) -> Response:
    jury_id = path_int(request, "jury_id")
    async with runtime(request).db.begin() as db:
        await juror_store.expire_invitations(db, actor, jury_id)
    return see_other(f"/council/juries/{jury_id}")


async def withdraw(request: Request, actor: Actor) -> Response:
    """GET: the confirmation page; POST: withdraw (only with ``confirm=yes``, as it posts)."""
    jury_id = path_int(request, "jury_id")
    if request.method == "GET":
        return await confirm.withdraw_juror_page(request, actor)
    if not confirm.confirmed(await read_form(request)):
        return see_other(str(request.url.path))
    async with runtime(request).db.begin() as db:
        await juror_store.withdraw_juror(db, actor, jury_id, path_int(request, "juror_id"))
    return see_other(f"/council/juries/{jury_id}")


GET, BOTH, POST = ["GET"], ["GET", "POST"], ["POST"]

routes: list[BaseRoute] = [
    Route("/council/pilots/{pilot_id:id}/juries", page(juries_page), methods=BOTH),
    Route("/council/juries/{jury_id:id}", page(jury_page), methods=GET),
    Route("/council/juries/{jury_id:id}/edit", page(edit_jury), methods=BOTH),
    Route("/council/juries/{jury_id:id}/pool", page(upload_pool), methods=POST),
    Route("/council/juries/{jury_id:id}/lottery", page(compute), methods=POST),
    Route("/council/juries/{jury_id:id}/publish", page(publish), methods=POST),
    Route("/council/juries/{jury_id:id}/draw", page(draw), methods=POST),
    Route("/council/juries/{jury_id:id}/invitations", page(invite), methods=POST),
    Route("/council/juries/{jury_id:id}/invitations.csv", page(download_invitations), methods=POST),
    Route("/council/juries/{jury_id:id}/expire", page(expire), methods=POST),
    Route("/council/juries/{jury_id:id}/jurors/{juror_id:id}/withdraw", page(withdraw), methods=BOTH),
]
