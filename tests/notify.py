"""A Notify-compatible HTTP server for the tests: the three send endpoints of GOV.UK Notify's v2
API, checking the client's JSON Web Token as Notify does, and keeping what it was asked to send."""

from __future__ import annotations

import uuid
from typing import Any

from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SERVICE_ID = "3d9f8c1a-6b1e-4d7a-9a7e-2f6c1b0e8a11"
SECRET = "8b3f2f5e-1c4d-4e8a-b6a1-7d2c9e0f4a55"
API_KEY = f"polls_test-{SERVICE_ID}-{SECRET}"


class FakeNotify:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []  # {"kind", "body"}
        self.failures: list[int] = []  # statuses for the next requests, e.g. 500
        self.app = Starlette(routes=[Route("/v2/notifications/{kind}", self.notify, methods=["POST"])])

    async def notify(self, request: Request) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            decode_jwt_token(token, SECRET)  # type: ignore[no-untyped-call]
            issuer = get_token_issuer(token)  # type: ignore[no-untyped-call]
        except Exception:
            issuer = None
        if issuer != SERVICE_ID:
            return JSONResponse({"errors": [{"error": "AuthError"}]}, status_code=403)
        if self.failures:
            status = self.failures.pop(0)
            return JSONResponse({"errors": [{"error": "Failed", "message": "no"}]}, status_code=status)
        body = await request.json()
        notification_id = str(uuid.uuid4())
        self.sent.append({"kind": request.path_params["kind"], "body": body, "id": notification_id})
        return JSONResponse({"id": notification_id, "reference": body.get("reference")}, status_code=201)
