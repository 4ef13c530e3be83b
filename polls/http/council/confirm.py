"""Confirmation pages before what cannot be undone (GOV.UK's pattern): closing a poll early,
publishing results, ending a jury session, withdrawing a juror, cancelling a card's code. Each
is a page saying what will happen, a button that
posts the action with ``confirm=yes`` and a way back, so it works without JavaScript; a post
without ``confirm=yes`` is sent here instead of being carried out."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor, Permission
from polls.domain.polls import Action
from polls.http.kit.forms import path_int
from polls.http.kit.guards import jury_session_staff, jury_staff, poll_staff
from polls.http.kit.render import render
from polls.i18n import N_, _
from polls.store.models import Jury, JurySession, Pilot, Poll

# What each irreversible poll action does, in the words the confirmation page uses.
POLL_ACTIONS: dict[Action, tuple[str, str, str]] = {
    Action.CLOSE: (
        N_("Close the poll now?"),
        N_(
            "Nobody can vote once it is closed, not even with an unused code, and it cannot be opened "
            "again. The exact figures are shown to staff straight away."
        ),
        N_("Yes, close the poll"),
    ),
    Action.PUBLISH: (
        N_("Publish the results?"),
        N_(
            "Everyone will see these results, the council's responses, the reviewed comments and the "
            "downloads. They cannot change afterwards; later news goes in follow-ups."
        ),
        N_("Yes, publish the results"),
    ),
}


def confirmed(form: FormData) -> bool:
    return form.get("confirm") == "yes"


def _page(request: Request, context: dict[str, Any]) -> Response:
    return render(request, "confirm.html", {"fields": {}} | context)


@poll_staff(Permission.MANAGE_PILOT)
async def poll_action_page(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    """GET of a poll action: the confirmation page (actions that can be undone need none)."""
    action = Action(request.path_params["action"])
    if action not in POLL_ACTIONS:
        return Response(status_code=303, headers={"Location": f"/council/polls/{poll.id}"})
    question, consequence, button = POLL_ACTIONS[action]
    context = {
        "caption": poll.title,
        "question": _(question),
        "consequence": _(consequence),
        "button": _(button),
        "action": f"/council/polls/{poll.id}/actions/{action.value}",
        "back": f"/council/polls/{poll.id}" + ("/results" if action is Action.PUBLISH else ""),
    }
    return _page(request, context)


@jury_session_staff(Permission.RUN_JURY)
async def end_session_page(request: Request, actor: Actor, session: JurySession, jury: Jury) -> Response:
    console = f"/council/jury-sessions/{session.id}"
    context = {
        "caption": f"{jury.title} · {session.title}",
        "question": _("End the session?"),
        "consequence": _(
            "The speaker's turn ends, every timer stops and nobody can speak or vote in this "
            "session again. It cannot be started again; its report is kept."
        ),
        "button": _("Yes, end the session"),
        "action": console,
        "fields": {"type": "end_session"},
        "back": console,
    }
    return _page(request, context)


@jury_staff(Permission.MANAGE_PILOT)
async def withdraw_juror_page(request: Request, actor: Actor, jury: Jury, pilot: Pilot) -> Response:
    back = f"/council/juries/{jury.id}"
    context = {
        "caption": jury.title,
        "question": _("Withdraw this juror?"),
        "consequence": _(
            "They leave the panel and their room link stops working; the first reserve who "
            "keeps every quota is invited in their place."
        ),
        "button": _("Yes, withdraw the juror"),
        "action": f"{back}/jurors/{path_int(request, 'juror_id')}/withdraw",
        "back": back,
    }
    return _page(request, context)


def revoke_code_page(request: Request, pilot: Pilot, reference: str) -> Response:
    """Asked before cancelling a card's code on its own (no replacement)."""
    context = {
        "caption": pilot.name,
        "question": _("Cancel the code of card %(reference)s?") % {"reference": reference},
        "consequence": _(
            "Nobody can vote with this card again, in any poll. To give its holder a new "
            "card, cancel it and issue a new code instead."
        ),
        "button": _("Yes, cancel the code"),
        "action": str(request.url.path),
        "fields": {"reference": reference, "action": "revoke"},
        "back": f"/council/pilots/{pilot.id}/codes",
    }
    return _page(request, context)
