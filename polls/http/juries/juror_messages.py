"""Writing to jurors: an officer sends an invitation by email or text message, a moderator sends
session reminders with each juror's room link, and a juror asks for their room link again."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.domain.access import Actor
from polls.domain.contacts import check_contact
from polls.errors import ValidationFailed
from polls.http.council.password_reset import too_many_requests
from polls.http.council.sign_in import client_address
from polls.http.juries import selection
from polls.http.kit.forms import path_int, read_form, see_other
from polls.http.kit.guards import page
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import juror_messages
from polls.store.juries import public_jury


async def send_invitation(request: Request, actor: Actor) -> Response:
    jury_id, juror_id = path_int(request, "jury_id"), path_int(request, "juror_id")
    form = await read_form(request)
    field = f"contact-{juror_id}"
    typed = str(form.get(field, ""))
    language = str(form.get("language", "en"))
    rt = runtime(request)
    try:
        contact = check_contact(typed)
        async with rt.db.begin() as db:
            await juror_messages.send_invitation(
                db,
                actor,
                jury_id,
                juror_id,
                contact,
                tokens=rt.tokens,
                language=language,
            )
    except ValidationFailed as exc:
        return await selection.show_again(
            request, actor, errors={field: exc.errors[0].message}, values={field: typed}
        )
    rt.messages_queued()
    return see_other(f"/council/juries/{jury_id}#jurors")


async def send_reminders(request: Request, actor: Actor) -> Response:
    await read_form(request)
    rt = runtime(request)
    async with rt.db.begin() as db:
        jury_id, sent = await juror_messages.send_reminders(
            db, actor, path_int(request, "session_id"), tokens=rt.tokens
        )
    rt.messages_queued()
    return see_other(f"/council/juries/{jury_id}/sessions?reminded={sent}")


async def room_link_again(request: Request) -> Response:
    """The same answer whether or not the address belongs to a juror, throttled like password resets."""
    rt = runtime(request)
    jury_id = path_int(request, "jury_id")
    async with rt.db() as db:
        jury = await public_jury(db, jury_id)
    context = {"jury": jury, "values": {}}
    if request.method == "GET":
        return render(request, "juries/room_link.html", context)
    form = await read_form(request)
    typed = str(form.get("contact", ""))
    try:
        contact = check_contact(typed)
    except ValidationFailed as exc:
        errors = {"contact": exc.errors[0].message}
        return render(
            request,
            "juries/room_link.html",
            {**context, "values": {"contact": typed}, "errors": errors},
            status_code=422,
        )
    keys = (f"room:{jury_id}:{contact.address.lower()}", f"ip:{client_address(request)}")
    wait = await rt.link_throttle.take(*keys)
    if wait:
        errors = {"contact": too_many_requests(max(1, round(wait / 60)))}
        return render(
            request,
            "juries/room_link.html",
            {**context, "values": {"contact": typed}, "errors": errors},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    async with rt.db.begin() as db:
        await juror_messages.send_room_link_again(db, jury_id, contact, tokens=rt.tokens)
    rt.messages_queued()
    return render(request, "juries/room_link_sent.html", {**context, "contact": contact.address})


routes = [
    Route("/council/juries/{jury_id:id}/jurors/{juror_id:id}/send", page(send_invitation), methods=["POST"]),
    Route("/council/jury-sessions/{session_id:id}/reminders", page(send_reminders), methods=["POST"]),
    Route("/juries/{jury_id:id}/room-link", room_link_again, methods=["GET", "POST"]),
]
