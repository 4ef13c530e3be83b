"""The pilot's theme list: analysts and council admins add themes, rename them and delete them. A
rename or deletion that existing tags use is asked about first, naming how many tags it touches."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.analysis import ThemeSpec
from polls.domain.validation import parse
from polls.errors import Conflict, ErrorCode, ValidationFailed
from polls.http.kit.forms import errors_by_field, path_int, read_form, see_other
from polls.http.kit.guards import page, pilot_staff, staff_pilot
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import themes as theme_store
from polls.store.models import Pilot


async def _page(
    request: Request,
    pilot: Pilot,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    confirm: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    async with runtime(request).db() as db:
        themes = await theme_store.themes_in_use(db, pilot.id)
    context = {"pilot": pilot, "themes": themes, "values": values or {}, "errors": errors or {}}
    return render(request, "council/themes.html", context | {"confirm": confirm}, status_code=status_code)


@pilot_staff(Permission.ANALYSE_RESPONSES)
async def themes_page(request: Request, actor: Actor, pilot: Pilot) -> Response:
    return await _page(request, pilot)


async def add_theme(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    pilot = await staff_pilot(request, actor, Permission.ANALYSE_RESPONSES)
    values = {"name": str(form.get("name", "")), "description": str(form.get("description", ""))}
    try:
        async with runtime(request).db.begin() as db:
            await theme_store.add_theme(db, actor, pilot.id, parse(ThemeSpec, values))
    except ValidationFailed as exc:
        return await _page(request, pilot, values=values, errors=errors_by_field(exc.errors), status_code=422)
    except Conflict as exc:
        return await _page(request, pilot, values=values, errors={"name": exc.message}, status_code=409)
    return see_other(f"/council/pilots/{pilot.id}/themes")


async def change_theme(request: Request, actor: Actor) -> Response:
    """Rename (or delete, with ``delete=yes``) a theme; a change that tags use comes back with
    the question and a button to confirm it."""
    form = await read_form(request)
    pilot = await staff_pilot(request, actor, Permission.ANALYSE_RESPONSES)
    theme_id = path_int(request, "theme_id")
    deleting = form.get("delete") == "yes"
    confirmed = form.get("confirm") == "yes"
    values = {"name": str(form.get("name", "")), "description": str(form.get("description", ""))}
    field = f"name-{theme_id}"
    try:
        async with runtime(request).db.begin() as db:
            if deleting:
                await theme_store.delete_theme(db, actor, pilot.id, theme_id, confirmed)
            else:
                await theme_store.change_theme(
                    db, actor, pilot.id, theme_id, parse(ThemeSpec, values), confirmed
                )
    except ValidationFailed as exc:
        errors = {field: exc.errors[0].message}
        return await _page(request, pilot, values={field: values["name"]}, errors=errors, status_code=422)
    except Conflict as exc:
        if exc.code is not ErrorCode.THEME_IN_USE:
            return await _page(request, pilot, errors={field: exc.message}, status_code=409)
        ask = {"theme_id": theme_id, "message": exc.message, "delete": deleting, **values}
        return await _page(request, pilot, confirm=ask, status_code=409)
    return see_other(f"/council/pilots/{pilot.id}/themes")


GET, POST = ["GET"], ["POST"]

routes: list[BaseRoute] = [
    Route("/council/pilots/{pilot_id:id}/themes", page(themes_page), methods=GET),
    Route("/council/pilots/{pilot_id:id}/themes", page(add_theme), methods=POST),
    Route("/council/pilots/{pilot_id:id}/themes/{theme_id:id}", page(change_theme), methods=POST),
]
