"""Delivery status of the messages sent for a jury or a poll, and sending a failed one again.

Status only: never a message's words, its personalisation (which holds jurors' room links) or
its address; a juror's messages name the juror by id, residents' messages name nobody."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from polls.domain.access import Actor, Permission
from polls.domain.messages import RETRYABLE
from polls.http.api.kit import ApiRoute, ok
from polls.http.kit.forms import path_int
from polls.http.kit.guards import staff_only
from polls.runtime import runtime
from polls.store import messages as outbox
from polls.store import subscriptions
from polls.store.juries import get_jury
from polls.store.models import Message
from polls.store.polls import get_poll


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def delivery_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "purpose": message.purpose,
        "channel": message.channel,
        "language": message.language,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "juror_id": message.juror_id,
        "queued_at": _when(message.created_at),
        "sent_at": _when(message.sent_at),
        "next_attempt_at": _when(message.next_attempt_at) if message.status in ("queued", "failed") else None,
        "can_retry": message.status in RETRYABLE,
    }


@staff_only
async def jury_deliveries(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        jury = await get_jury(db, actor, path_int(request, "jury_id"), Permission.VIEW_PILOT)
        counts = await outbox.status_counts(db, jury_id=jury.id)
        messages = await outbox.messages_of(db, jury_id=jury.id)
    return ok({"counts": counts, "messages": [delivery_json(m) for m in messages]})


@staff_only
async def poll_deliveries(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        poll = await get_poll(db, actor, path_int(request, "poll_id"), Permission.VIEW_PILOT)
        body = {
            "subscribers": await subscriptions.subscriber_count(db, poll.id),
            "counts": await outbox.status_counts(db, poll_id=poll.id),
            # Residents' messages can be many: the list holds those needing attention.
            "messages": [
                delivery_json(m)
                for m in await outbox.messages_of(db, poll_id=poll.id, statuses=RETRYABLE, limit=200)
            ],
        }
    return ok(body)


@staff_only
async def retry_delivery(request: Request, actor: Actor) -> Response:
    rt = runtime(request)
    async with rt.db.begin() as db:
        message = await outbox.retry_for(db, actor, path_int(request, "message_id"))
        body = delivery_json(message)
    rt.messages_queued()
    return ok(body)


OPERATIONS = [
    ApiRoute(
        "GET",
        "/api/juries/{jury_id:id}/messages",
        jury_deliveries,
        "Delivery status of the jury's messages, newest first, with counts per status (no content "
        "or addresses)",
    ),
    ApiRoute(
        "GET",
        "/api/polls/{poll_id:id}/messages",
        poll_deliveries,
        "Delivery status of the poll's messages to residents: counts per status and the failed, "
        "bounced or dead ones (no content or addresses)",
    ),
    ApiRoute(
        "POST",
        "/api/messages/{message_id:id}/retry",
        retry_delivery,
        "Send a failed, bounced or dead message again, its attempts afresh (council admins)",
    ),
]
