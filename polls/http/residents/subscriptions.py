"""'Tell me when the results are published': an email address or phone number for one poll,
asked for on the receipt page but sent on its own (never with the ballot or its tracker), held
back while the poll is open so that it cannot be dated against the ballots (polls.live.subscriptions),
and a link in the confirmation to stop it without signing in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.domain.contacts import check_contact
from polls.domain.polls import PollStatus
from polls.errors import NotFound, ValidationFailed
from polls.http.kit.forms import read_form
from polls.http.residents.language import render_resident, resident_language
from polls.i18n import N_
from polls.live.subscriptions import Pending
from polls.messaging.subscribers import write
from polls.runtime import runtime
from polls.store import pilots as pilot_store
from polls.store import subscriptions as store
from polls.store.ballots import load_poll
from polls.store.models import Poll


async def _poll(request: Request) -> tuple[Poll, list[str]]:
    async with runtime(request).db() as session:
        poll = await load_poll(session, int(request.path_params["poll_id"]))
        pilot = await pilot_store.find_pilot(session, poll.pilot_id)
    if poll.status not in (PollStatus.OPEN, PollStatus.CLOSED, PollStatus.UNDER_REVIEW, PollStatus.PUBLISHED):
        raise NotFound(N_("There is no such poll"))
    return poll, pilot.languages if pilot else ["en"]


async def subscribe_page(request: Request) -> Response:
    poll, offered = await _poll(request)
    if request.method == "GET":
        return render_resident(request, "residents/subscribe.html", {"poll": poll, "values": {}}, offered)
    form = await read_form(request)
    typed = str(form.get("contact", ""))
    try:
        contact = check_contact(typed)
    except ValidationFailed as exc:
        context = {"poll": poll, "values": {"contact": typed}, "errors": {"contact": exc.errors[0].message}}
        return render_resident(request, "residents/subscribe.html", context, offered, status_code=422)
    rt = runtime(request)
    pending = Pending(store.new_id(), contact.channel, contact.address, resident_language(request, offered))
    if poll.status == PollStatus.OPEN:
        batch = await rt.subscriptions.add(poll.id, pending, poll.secrecy_k)
    else:  # voting is over: no ballot can be dated by it now
        batch = [pending]
    if batch:
        await write(rt.db, rt.subscriptions, poll.id, batch)
        rt.messages_queued()
    context = {"poll": poll, "contact": contact.address, "waiting": not batch}
    return render_resident(request, "residents/subscribed.html", context, offered)


async def unsubscribe_page(request: Request) -> Response:
    """No sign-in: the link's random id is the key. GET asks (so a mail scanner following links
    stops nothing); POST stops it."""
    poll, offered = await _poll(request)
    subscription_id = str(request.path_params["subscription_id"])
    if request.method == "GET":
        return render_resident(request, "residents/unsubscribe.html", {"poll": poll, "done": False}, offered)
    await read_form(request)
    rt = runtime(request)
    async with rt.db.begin() as session:
        stopped = await store.unsubscribe(session, poll.id, subscription_id)
    if not stopped:
        await rt.subscriptions.forget(poll.id, subscription_id)
    # The same answer either way: the page tells nothing about whose link it was.
    return render_resident(request, "residents/unsubscribe.html", {"poll": poll, "done": True}, offered)


routes = [
    Route("/polls/{poll_id:id}/results-subscription", subscribe_page, methods=["GET", "POST"]),
    Route(
        "/polls/{poll_id:id}/results-subscriptions/{subscription_id}",
        unsubscribe_page,
        methods=["GET", "POST"],
    ),
]
