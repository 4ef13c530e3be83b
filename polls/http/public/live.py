"""Live results anyone may follow: who may see them, what they show, and the websocket that pushes
each change. While a poll is open they show its published figures, which move in steps of at
least k ballots (polls.domain.secrecy); once it has closed, the exact counts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from polls.domain.access import Permission
from polls.domain.ballots import summarise
from polls.domain.polls import PollStatus, ResultsVisibility, results_public
from polls.domain.secrecy import live_note, results_final
from polls.errors import ErrorCode, PollsError
from polls.http.kit.auth import current_actor
from polls.runtime import Runtime, runtime
from polls.store import pilots as pilot_store
from polls.store.ballots import load_poll, localised_definition, poll_definition
from polls.store.models import Poll
from polls.store.voters import ballot_trackers


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
            areas = await pilot_store.area_names(session, poll.pilot_id)
    stepped = not results_final(PollStatus(poll.status))
    counts = await (rt.tallies.read_published(poll.id) if stepped else rt.tallies.read(poll.id))
    definition = localised_definition(poll, language) if language else poll_definition(poll)
    summary = summarise(definition, counts, areas)
    summary.update({"title": poll.title, "status": poll.status, "assurance": poll.assurance})
    summary["updates_every"] = poll.secrecy_k if stepped else None
    summary["note"] = live_note(poll.secrecy_k) if stepped else None
    return summary


async def listed_receipts(rt: Runtime, poll: Poll) -> list[str]:
    """The receipts anyone may see, sorted: those published so far while the poll is open
    (they join in steps, with the counts), every one once it has closed."""
    if not results_final(PollStatus(poll.status)):
        return await rt.tallies.published_receipts(poll.id)
    async with rt.db() as session:
        return await ballot_trackers(session, poll.id)


async def receipt_status(rt: Runtime, poll: Poll, tracker: str, listed: list[str]) -> str:
    """ "listed"; "waiting": counted, and listed with the next step; or "unknown". Only someone
    holding the receipt can ask, so saying it waits tells them nothing they could not see."""
    if tracker in listed:
        return "listed"
    if not results_final(PollStatus(poll.status)) and await rt.tallies.waiting(poll.id, tracker):
        return "waiting"
    return "unknown"


async def live_socket(websocket: WebSocket) -> None:
    """Pushes the poll's published counts at each step (coalesced); read-only for the client.
    The first message carries the results with how often they update (``updates_every``)."""
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
        await websocket.send_json({"type": "error", "code": ErrorCode.RESULTS_NOT_PUBLIC})
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


routes: list[BaseRoute] = [WebSocketRoute("/live/polls/{poll_id:id}", live_socket)]
