"""The JSON API's kit: how an operation is declared, reading a JSON body, answering with JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from polls.errors import BodyTooLarge, ErrorCode, PollsError

MAX_JSON = 1_000_000


Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ApiRoute:
    """One API operation, described once for the router and for the OpenAPI document.

    An operation without an ``endpoint`` is answered by the app itself, before its middleware and
    route table (the vote: see ``PollsApp``); the document lists it, the router leaves it out."""

    method: str
    path: str
    endpoint: Endpoint | None
    summary: str
    body: type[BaseModel] | None = None
    body_media: str = "application/json"
    public: bool = False
    throttled: bool = False  # may answer 429 with Retry-After
    name: str = ""  # the operationId, when there is no endpoint to take it from

    @property
    def operation_id(self) -> str:
        return self.endpoint.__name__ if self.endpoint is not None else self.name


# The refusals of a JSON body, shared with the vote path (polls/http/api/votes.py), which reads its
# body straight from the ASGI messages for speed and so cannot call read_json.
def not_json() -> PollsError:
    return PollsError(
        "Send the body as JSON with Content-Type: application/json", code=ErrorCode.UNSUPPORTED_MEDIA_TYPE
    )


def parse_json(raw: bytes) -> Any:
    """The JSON value of a body, or invalid_json saying why not."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PollsError(f"The body is not valid JSON: {exc}", code=ErrorCode.INVALID_JSON) from None


async def read_json(request: Request, *, limit: int = MAX_JSON) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise not_json()
    raw = await request.body()
    if len(raw) > limit:
        raise BodyTooLarge(f"The body is larger than {limit // 1024} KB")
    return parse_json(raw)


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)
