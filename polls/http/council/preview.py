"""A poll's ballot as residents will see it, for staff to check before it opens (in any of the
pilot's languages); nothing can be sent from it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.questions import QuestionKind
from polls.http.kit.guards import page, poll_staff
from polls.http.residents.language import poll_text, render_resident, resident_language
from polls.runtime import runtime
from polls.store.ballots import load_poll, localised_definition
from polls.store.models import Pilot, Poll


@poll_staff(Permission.VIEW_PILOT)
async def preview(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        full = await load_poll(db, poll.id)
    language = resident_language(request, pilot.languages)
    context = {
        "preview": True,
        "poll": full,
        "pilot": pilot,
        "definition": localised_definition(full, language),
        "poll_title": poll_text(full, language, "title"),
        "poll_description": poll_text(full, language, "description"),
        "action": request.url.path,
        "values": {},
        "errors": {},
        "kinds": QuestionKind,
    }
    return render_resident(request, "residents/ballot.html", context, pilot.languages)


routes: list[BaseRoute] = [Route("/council/polls/{poll_id:id}/preview", page(preview), methods=["GET"])]
