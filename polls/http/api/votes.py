"""Residents vote through the JSON API, and anyone may list a poll's ballot trackers to find theirs."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from typing import Any

from pydantic import Field
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from polls.domain.polls import PollStatus
from polls.domain.secrecy import results_final
from polls.domain.trackers import normalise_tracker
from polls.domain.validation import StrictSpec
from polls.errors import BodyTooLarge, ErrorCode, Forbidden, NotFound, PollsError, ServiceUnavailable
from polls.http.api.kit import ApiRoute, not_json, parse_json
from polls.http.kit.errors import error_body
from polls.http.kit.middleware import API_RESPONSE_HEADERS
from polls.http.kit.observe import HEADER as REQUEST_ID
from polls.http.kit.observe import finished, request_id
from polls.http.kit.voter_codes import credential_for_code
from polls.http.public.live import listed_receipts, receipt_status
from polls.metrics import VOTES_ACCEPTED, VOTES_REFUSED
from polls.runtime import Runtime, runtime
from polls.store.ballots import load_poll
from polls.store.db import DATABASE_UNAVAILABLE

MAX_VOTE_BODY = 64 * 1024

log = logging.getLogger("polls.votes")


# For the OpenAPI document only: answer_vote reads the body itself, and the booth checks the
# answers against the poll.
class VoteSpec(StrictSpec):
    """A vote: the code from the poll card and the answers."""

    code: str = Field(description="the voting link's token (vc_...) or the short code on the poll card")
    answers: dict[str, Any] = Field(description="each answered question's id and its answer")


async def trackers(request: Request) -> Response:
    """The ballot trackers published so far, sorted: a voter can check theirs is counted. While
    the poll is open they join in steps of at least k (``updates_every``); ``?tracker=`` asks
    about one: "listed", "waiting" (counted, listed at the next step) or "unknown"."""
    rt = runtime(request)
    poll_id = int(request.path_params["poll_id"])
    async with rt.db() as session:
        poll = await load_poll(session, poll_id)
    if poll.status in (PollStatus.DRAFT.value, PollStatus.SCHEDULED.value):
        raise Forbidden("This poll has not opened", code=ErrorCode.POLL_NOT_OPEN)
    found = await listed_receipts(rt, poll)
    stepped = not results_final(PollStatus(poll.status))
    body: dict[str, Any] = {
        "poll_id": poll_id,
        "trackers": found,
        "updates_every": poll.secrecy_k if stepped else None,
    }
    wanted = normalise_tracker(request.query_params.get("tracker", ""))
    if wanted:
        body["tracker"] = await receipt_status(rt, poll, wanted, found)
    return JSONResponse(body)


VOTE_PATH = re.compile(r"/api/polls/([0-9]+)/votes")


# Redis, the database or the network did not answer: the vote was not saved (503).
_BACKING_SERVICE_DOWN: tuple[type[Exception], ...] = (RedisError, *DATABASE_UNAVAILABLE, OSError)

NOT_SAVED = "Your vote could not be saved just now. It was not counted; try again."
SERVER_ERROR = "Something went wrong on our side. Nothing was saved; please try again."


# One encoder for every refusal: json.dumps with options builds a new one each call.
_ANSWER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class _ClientGone(Exception):
    pass


async def answer_vote(rt: Runtime, poll_id: int, scope: Scope, receive: Receive, send: Send) -> None:
    """POST /api/polls/{id}/votes, answered straight from the ASGI messages (see PollsApp):
    votes are the busiest request by far and need no session, CSRF or page machinery. Errors
    are the same JSON bodies and status codes as the rest of the API."""
    started = time.perf_counter()
    request = request_id(scope)
    refused = ""  # the error code of a refusal, for the metrics
    try:
        body = await _vote_body(scope, receive)
        if not isinstance(body, dict):
            raise PollsError("Send an object with 'code' and 'answers'", code=ErrorCode.MALFORMED_BALLOT)
        if poll_id >= 2**31:
            raise NotFound("There is no such poll", code=ErrorCode.POLL_NOT_FOUND)
        card = await credential_for_code(rt, body.get("code"))
        receipt = await rt.booth.cast(poll_id, card, body.get("answers"))
        status = 201
        # The receipt's JSON written out directly (an int and letters, digits and dashes: nothing
        # to escape), as the encoder would write it; the encoder took a few microseconds a vote.
        encoded = (
            f'{{"poll_id":{receipt.poll_id},"tracker":"{receipt.tracker}",'
            f'"trackers_url":"/polls/{receipt.poll_id}/trackers"}}'
        ).encode()
    except _ClientGone:
        return
    except PollsError as exc:
        status, refused, encoded = exc.status, exc.code, _ANSWER.encode(error_body(exc)).encode()
    except _BACKING_SERVICE_DOWN as exc:
        log.error("vote refused, backing service unavailable: %s", type(exc).__name__)
        down = ServiceUnavailable(NOT_SAVED)
        status, refused, encoded = 503, down.code, _ANSWER.encode(error_body(down)).encode()
    except Exception:
        log.exception("unhandled error on a vote")
        status, refused = 500, ErrorCode.SERVER_ERROR
        encoded = _ANSWER.encode({"code": refused, "message": SERVER_ERROR}).encode()
    headers = [
        (b"content-length", str(len(encoded)).encode()),
        (REQUEST_ID, request.encode()),
        *API_RESPONSE_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})
    if status == 201:
        VOTES_ACCEPTED.inc()
    else:
        _refused(str(refused)).inc()
    finished(VOTE_ROUTE, "POST", status, request, started)


VOTE_ROUTE = "/api/polls/{poll_id}/votes"


@functools.cache
def _refused(code: str) -> Any:
    return VOTES_REFUSED.labels(code)


async def _vote_body(scope: Scope, receive: Receive) -> Any:
    declared, content_type = b"0", b""
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = value
        elif name == b"content-type":
            content_type = value
    if not declared.isdigit() or int(declared) > MAX_VOTE_BODY:
        raise BodyTooLarge("A vote is at most 64 KB")
    if content_type.split(b";")[0].strip().lower() != b"application/json":
        raise not_json()
    chunks: list[bytes] = []
    received = 0
    while True:  # a body sent in chunks, without a length, is cut off at the limit too
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > MAX_VOTE_BODY:
            raise BodyTooLarge("A vote is at most 64 KB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return parse_json(chunks[0] if len(chunks) == 1 else b"".join(chunks))


OPERATIONS: list[ApiRoute] = [
    ApiRoute(
        "POST",
        "/api/polls/{poll_id:id}/votes",
        None,  # answered by PollsApp before the middleware and the route table: see answer_vote
        "Vote with the code from a poll card (201 with the ballot tracker)",
        VoteSpec,
        public=True,
        name="answer_vote",
    ),
    ApiRoute(
        "GET",
        "/api/polls/{poll_id:id}/trackers",
        trackers,
        "Every ballot tracker of a poll once it has opened, so a voter can find theirs",
        public=True,
    ),
]
