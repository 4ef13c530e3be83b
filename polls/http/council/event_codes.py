"""Event mode: a moderator at a community event hands out single-use codes from a tablet."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.cards import qr_svg
from polls.domain.access import Actor, Permission
from polls.domain.codes import format_short_code
from polls.errors import ValidationFailed
from polls.http.kit.forms import read_form, whole_number
from polls.http.kit.guards import page, poll_staff
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store.codes import issue_event_code
from polls.store.models import Pilot, Poll


@poll_staff(Permission.RUN_JURY)
async def event_codes(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    rt = runtime(request)
    poll_id = poll.id
    context: dict[str, Any] = {"poll": poll, "issued": None, "errors": {}, "values": {}}
    context["area_choices"] = [(str(a.id), a.name) for a in poll.areas]
    status = 200
    if request.method == "POST":
        form = await read_form(request)
        raw_area = str(form.get("area_id", "")).strip()
        context["values"] = {"area_id": raw_area}
        try:
            async with rt.db.begin() as db:
                area_id = whole_number(raw_area)
                _, issued = await issue_event_code(db, actor, poll_id, area_id)
            short = format_short_code(issued.short_code)
            link = f"{rt.settings.base_url}/c/{issued.short_code}"
            context["issued"] = {
                "code": short,
                "link": link,
                "qr": Markup(qr_svg(link, title=f"Code {short}")),
            }
            status = 201
        except ValidationFailed as exc:
            context["errors"] = {e.field: e.message for e in exc.errors}
            status = 422
    return render(request, "council/event.html", context, status_code=status)


routes: list[BaseRoute] = [
    Route("/council/polls/{poll_id:id}/event", page(event_codes), methods=["GET", "POST"]),
]
