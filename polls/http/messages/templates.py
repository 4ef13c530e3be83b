"""Officers preview the messages a pilot sends, in each of its languages, before any is sent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.domain.access import Actor, Permission
from polls.domain.message_preview import previews, sample_fields
from polls.domain.translations import LANGUAGE_NAMES
from polls.http.kit.guards import page, pilot_staff
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store.juror_messages import contact_line
from polls.store.models import Pilot


@pilot_staff(Permission.VIEW_PILOT)
async def templates_page(request: Request, actor: Actor, pilot: Pilot) -> Response:
    samples = sample_fields(pilot.council, contact_line(pilot), runtime(request).settings.base_url)
    shown = previews(list(pilot.languages), samples)
    problems = sum(1 for p in shown if p.problem)
    return render(
        request,
        "messages/templates.html",
        {"pilot": pilot, "previews": shown, "problems": problems, "language_names": LANGUAGE_NAMES},
    )


routes = [Route("/council/pilots/{pilot_id:id}/messages", page(templates_page), methods=["GET"])]
