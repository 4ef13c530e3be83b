"""GOV.UK Notify's delivery callbacks: Notify posts each message's fate here with the bearer
token set in its callback settings (NOTIFY_CALLBACK_TOKEN), and the outbox row follows it."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from polls.domain.messages import Status
from polls.errors import ErrorCode, NotSignedIn, ValidationFailed
from polls.http.api.kit import ApiRoute, read_json
from polls.runtime import runtime
from polls.store import messages as outbox

# Notify's statuses (docs.notifications.service.gov.uk, "callbacks") and what they mean for us.
NOTIFY_STATUSES = {
    "delivered": Status.DELIVERED,
    "permanent-failure": Status.BOUNCED,
    "temporary-failure": Status.FAILED,
    "technical-failure": Status.FAILED,
    "validation-failed": Status.DEAD,
}


async def notify_callback(request: Request) -> Response:
    token = runtime(request).settings.notify_callback_token
    sent = request.headers.get("authorization", "")
    if not token or not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        raise NotSignedIn("The callback token is missing or wrong", code=ErrorCode.CALLBACK_NOT_AUTHORISED)
    body: Any = await read_json(request)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("id"), str)
        or body.get("status") not in NOTIFY_STATUSES
    ):
        raise ValidationFailed.one("status", "Expected Notify's id and one of its statuses")
    status = NOTIFY_STATUSES[body["status"]]
    error = None if status is Status.DELIVERED else f"Notify: {body['status']}"
    async with runtime(request).db.begin() as db:
        ours = await outbox.record_delivery(db, body["id"], status, error)
    # Notify retries callbacks that fail: one it sent about a message we do not have must not be.
    return JSONResponse({"updated": ours})


OPERATIONS = [
    ApiRoute(
        "POST",
        "/api/messages/notify-callback",
        notify_callback,
        "GOV.UK Notify's delivery receipt for one message (bearer token: NOTIFY_CALLBACK_TOKEN)",
        public=True,
    ),
]
