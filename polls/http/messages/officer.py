"""Officers send a failed, bounced or dead message again (its attempts start afresh)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.domain.access import Actor, Permission
from polls.errors import ErrorCode, NotFound
from polls.http.kit.forms import path_int, read_form, see_other
from polls.http.kit.guards import page
from polls.runtime import runtime
from polls.store import audit
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
        message = await outbox.get_message(db, path_int(request, "message_id"), lock=True)
        allowed = (
            actor.is_site_admin
            if message.pilot_id is None
            else actor.can(Permission.MANAGE_PILOT, message.pilot_id)
        )
        if not allowed:  # 404 rather than 403: message ids leak nothing
            raise NotFound("There is no such message", code=ErrorCode.MESSAGE_NOT_FOUND)
        await outbox.retry(db, message)
        await audit.record(
            db,
            actor=actor.email,
            action="message.retry",
            target=f"message:{message.id}",
            pilot_id=message.pilot_id,
            after={"purpose": message.purpose},
        )
    rt.messages_queued()
    return see_other(_back(form.get("back")))


routes = [Route("/council/messages/{message_id:id}/retry", page(retry_message), methods=["POST"])]
