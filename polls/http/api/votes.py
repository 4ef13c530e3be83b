"""Residents vote and everyone follows results: the JSON API and the live websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from polls.domain.access import Permission
from polls.domain.ballots import summarise
from polls.domain.codes import normalise_short_code
from polls.domain.eligibility import CodeNotValid
from polls.domain.polls import PollStatus, ResultsVisibility, results_public
from polls.errors import Forbidden, NotFound, PollsError, ServiceUnavailable
from polls.http.kit.auth import current_actor
from polls.http.kit.errors import error_body
from polls.http.kit.middleware import API_RESPONSE_HEADERS
from polls.runtime import Runtime, runtime
from polls.store import results as result_store
from polls.store.ballots import load_poll, localised_definition, poll_definition
from polls.store.codes import ballot_key, find_by_short_code
from polls.store.models import Area, Ballot, Poll
from polls.tokens import VOTER_CODE

MAX_VOTE_BODY = 64 * 1024

log = logging.getLogger("polls.votes")


async def reference_for_code(rt: Runtime, code: Any) -> str:
    """A voting link token (vc_...) or a typed short code, as the opaque voter reference."""
    if not isinstance(code, str) or not code.strip():
        raise CodeNotValid("Enter the code from your poll card", code="code_missing")
    code = code.strip()
    if rt.tokens.owns(VOTER_CODE, code):
        return rt.booth.reference_from_token(code)
    normalised = normalise_short_code(code)  # a typo is caught here, before any lookup
    async with rt.db() as session:
        found = await find_by_short_code(session, await ballot_key(session), normalised)
    if found is None:
        raise CodeNotValid(
            "We do not recognise this code. Check it against your poll card.", code="code_unknown"
        )
    return found.reference


async def may_see_results(request: Request, poll: Poll) -> bool:
    public = results_public(ResultsVisibility(poll.results_visibility), PollStatus(poll.status))
    if public:
        return True
    actor = await current_actor(request)
    return actor is not None and actor.can(Permission.VIEW_RESULTS, poll.pilot_id)


async def results_payload(rt: Runtime, poll: Poll, language: str | None = None) -> dict[str, Any]:
    if poll.areas:
        areas = {a.id: a.name for a in poll.areas}
    else:
        async with rt.db() as session:
            query = select(Area.id, Area.name).where(Area.pilot_id == poll.pilot_id).order_by(Area.name)
            areas = dict((await session.execute(query)).all())
    counts = await rt.tallies.read(poll.id)
    definition = localised_definition(poll, language) if language else poll_definition(poll)
    summary = summarise(definition, counts, areas)
    summary.update({"title": poll.title, "status": poll.status, "assurance": poll.assurance})
    return summary


async def live_results(request: Request) -> Response:
    rt = runtime(request)
    async with rt.db() as session:
        poll = await load_poll(session, int(request.path_params["poll_id"]))
    if not await may_see_results(request, poll):
        raise Forbidden("Results for this poll are not public yet", code="results_not_public")
    return JSONResponse(await results_payload(rt, poll))


async def trackers(request: Request) -> Response:
    """Every ballot tracker of a poll, sorted: a voter can check theirs is counted."""
    rt = runtime(request)
    poll_id = int(request.path_params["poll_id"])
    async with rt.db() as session:
        poll = await load_poll(session, poll_id)
        if poll.status in (PollStatus.DRAFT.value, PollStatus.SCHEDULED.value):
            raise Forbidden("This poll has not opened", code="poll_not_open")
        found = (
            (await session.execute(select(Ballot.tracker).where(Ballot.poll_id == poll_id))).scalars().all()
        )
    return JSONResponse({"poll_id": poll_id, "trackers": sorted(found)})


async def published_ballots(request: Request) -> Response:
    """The anonymised, shuffled ballot file the official results were counted from, for anyone to
    recount with `polls recount`.

    Public once the official results are published (before that it would show the count, and
    any recount by another method, ahead of the council); staff with the results role may fetch
    it from the close, to check the count."""
    rt = runtime(request)
    async with rt.db() as session:
        poll = await load_poll(session, int(request.path_params["poll_id"]))
        if poll.status in (PollStatus.DRAFT.value, PollStatus.SCHEDULED.value, PollStatus.OPEN.value):
            raise Forbidden("The ballots are published once voting has closed", code="poll_not_closed")
        stored = await result_store.load(session, poll.id)
    if poll.status != PollStatus.PUBLISHED.value:
        actor = await current_actor(request)
        if actor is None or not actor.can(Permission.VIEW_RESULTS, poll.pilot_id):
            raise Forbidden("The ballots are published with the official results", code="results_not_public")
    if stored is None:
        raise NotFound("This poll has no official count yet", code="no_official_count")
    return Response(
        stored.ballot_file,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="poll-{poll.id}-ballots.jsonl"'},
    )


async def live_socket(websocket: WebSocket) -> None:
    """Pushes the poll's counts whenever they change (coalesced); read-only for the client."""
    rt = runtime(websocket)
    poll_id = int(websocket.path_params["poll_id"])
    async with rt.db() as session:
        try:
            poll = await load_poll(session, poll_id)
        except PollsError:
            await websocket.close(code=4404, reason="no such poll")
            return
    await websocket.accept()
    if not results_public(ResultsVisibility(poll.results_visibility), PollStatus(poll.status)):
        await websocket.send_json({"type": "error", "code": "results_not_public"})
        await websocket.close(code=4403)
        return
    async with rt.hub.subscribe(poll_id) as updates:
        await websocket.send_json({"type": "results", "results": await results_payload(rt, poll)})
        receiver = asyncio.create_task(_drain(websocket))
        getter: asyncio.Future[dict[str, int]] | None = None
        try:
            while not receiver.done():
                getter = asyncio.ensure_future(updates.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    break
                await websocket.send_text(json.dumps({"type": "counts", "counts": getter.result()}))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            for task in (getter, receiver):
                if task is not None and not task.done():
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await receiver


async def _drain(websocket: WebSocket) -> None:
    """Ignore whatever the client sends (text, binary, junk); return when it goes away."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


routes: list[BaseRoute] = [
    Route("/api/polls/{poll_id:id}/results", live_results, methods=["GET"]),
    Route("/api/polls/{poll_id:id}/trackers", trackers, methods=["GET"]),
    Route("/polls/{poll_id:id}/ballots.jsonl", published_ballots, methods=["GET"]),
    WebSocketRoute("/live/polls/{poll_id:id}", live_socket),
]


VOTE_PATH = re.compile(r"/api/polls/([0-9]+)/votes")


class VoteTooLarge(PollsError):
    status = 413
    code = "body_too_large"


NOT_SAVED = "Your vote could not be saved just now. It was not counted; try again."
SERVER_ERROR = "Something went wrong on our side. Nothing was saved; please try again."


# One encoder for every answer: json.dumps with options builds a new one each call.
_ANSWER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class _ClientGone(Exception):
    pass


async def answer_vote(rt: Runtime, poll_id: int, scope: Scope, receive: Receive, send: Send) -> None:
    """POST /api/polls/{id}/votes, answered straight from the ASGI messages (see PollsApp):
    votes are the busiest request by far and need no session, CSRF or page machinery. Errors
    are the same JSON bodies and status codes as the rest of the API."""
    try:
        body = await _vote_body(scope, receive)
        if not isinstance(body, dict):
            raise PollsError("Send an object with 'code' and 'answers'", code="malformed_ballot")
        if poll_id >= 2**31:
            raise NotFound("There is no such poll", code="poll_not_found")
        reference = await reference_for_code(rt, body.get("code"))
        receipt = await rt.booth.cast(poll_id, reference, body.get("answers"))
        status = 201
        answer: dict[str, object] = {
            "poll_id": receipt.poll_id,
            "tracker": receipt.tracker,
            "trackers_url": f"/polls/{receipt.poll_id}/trackers",
        }
    except _ClientGone:
        return
    except PollsError as exc:
        status, answer = exc.status, error_body(exc)
    except (RedisError, OperationalError, InterfaceError, OSError) as exc:
        log.error("vote refused, backing service unavailable: %s", type(exc).__name__)
        status, answer = 503, error_body(ServiceUnavailable(NOT_SAVED))
    except Exception:
        log.exception("unhandled error on a vote")
        status = 500
        answer = {"code": "server_error", "message": SERVER_ERROR}
    encoded = _ANSWER.encode(answer).encode()
    headers = [(b"content-length", str(len(encoded)).encode()), *API_RESPONSE_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})


async def _vote_body(scope: Scope, receive: Receive) -> Any:
    declared, content_type = b"0", b""
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = value
        elif name == b"content-type":
            content_type = value
    if not declared.isdigit() or int(declared) > MAX_VOTE_BODY:
        raise VoteTooLarge("A vote is at most 64 KB")
    if content_type.split(b";")[0].strip().lower() != b"application/json":
        raise PollsError(
            "Send the body as JSON with Content-Type: application/json", code="unsupported_media_type"
        )
    chunks: list[bytes] = []
    received = 0
    while True:  # a body sent in chunks, without a length, is cut off at the limit too
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > MAX_VOTE_BODY:
            raise VoteTooLarge("A vote is at most 64 KB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    try:
        return json.loads(chunks[0] if len(chunks) == 1 else b"".join(chunks))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PollsError(f"The body is not valid JSON: {exc}", code="invalid_json") from None
