"""Officers send a failed, bounced or dead message again (its attempts start afresh)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.domain.access import Actor
from polls.http.kit.forms import path_int, read_form, see_other
from polls.http.kit.guards import page
from polls.runtime import runtime
from polls.store import messages as outbox


def _back(raw: object) -> str:
    # Only same-site paths: the form must never send the officer to another site.
    text = str(raw or "")
    if text.startswith("/") and not text.startswith("//") and "\\" not in text:
        return text
    return "/council"


async def retry_message(request: Request, actor: Actor) -> Response:
    form = await read_form(request)
    rt = runtime(request)
    async with rt.db.begin() as db:
        await outbox.retry_for(db, actor, path_int(request, "message_id"))
    rt.messages_queued()
    return see_other(_back(form.get("back")))


routes = [Route("/council/messages/{message_id:id}/retry", page(retry_message), methods=["POST"])]
