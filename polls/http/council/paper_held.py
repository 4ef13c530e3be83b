"""The second officer's pages: paper batches held for confirmation, confirmed or rejected.

The confirming officer sees each held ballot's answers (to check them against the paper in front
of them) and who entered the batch, never a code: none is kept beside a held ballot.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.paper import as_written
from polls.errors import PollsError, ValidationFailed
from polls.http.kit.forms import path_int, read_form
from polls.http.kit.guards import page, poll_staff
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import paper as paper_store
from polls.store.ballots import poll_definition
from polls.store.models import Pilot, Poll
from polls.voting import paper


async def _held_page(
    request: Request, actor: Actor, poll: Poll, pilot: Pilot, status_code: int = 200, **extra: Any
) -> Response:
    async with runtime(request).db() as db:
        batches = await paper_store.held_batches(db, poll.id)
    definition = poll_definition(poll)
    held = [
        {"batch": b, "ballots": [as_written(definition, ballot["answers"]) for ballot in b.ballots]}
        for b in batches
    ]
    context = {"poll": poll, "pilot": pilot, "held": held, "actor": actor, "problem": None, "errors": {}}
    return render(request, "council/paper_held.html", context | extra, status_code=status_code)


@poll_staff(Permission.MANAGE_PILOT)
async def held_batches(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    return await _held_page(request, actor, poll, pilot)


@poll_staff(Permission.MANAGE_PILOT)
async def confirm_batch(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    rt = runtime(request)
    batch_id = path_int(request, "batch_id")
    try:
        added = await paper.confirm(rt.db, rt.booth.writer, actor, poll.id, batch_id)
    except PollsError as exc:
        return await _held_page(request, actor, poll, pilot, exc.status, problem=exc.message)
    done = f"Batch {batch_id} confirmed: {added} paper {'ballot' if added == 1 else 'ballots'} counted."
    return await _held_page(request, actor, poll, pilot, done=done)


@poll_staff(Permission.MANAGE_PILOT)
async def reject_batch(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    form = await read_form(request)
    batch_id = path_int(request, "batch_id")
    reason = str(form.get(f"reason-{batch_id}", ""))
    try:
        async with runtime(request).db.begin() as db:
            await paper_store.reject(db, actor, poll.id, batch_id, reason)
    except ValidationFailed as exc:
        errors = {f"reason-{batch_id}": exc.errors[0].message}
        values = {f"reason-{batch_id}": reason}
        return await _held_page(request, actor, poll, pilot, 422, errors=errors, values=values)
    except PollsError as exc:
        return await _held_page(request, actor, poll, pilot, exc.status, problem=exc.message)
    done = f"Batch {batch_id} rejected: nothing of it is counted, and its codes can be entered again."
    return await _held_page(request, actor, poll, pilot, done=done)


routes: list[BaseRoute] = [
    Route("/council/polls/{poll_id:id}/paper/held", page(held_batches), methods=["GET"]),
    Route(
        "/council/polls/{poll_id:id}/paper/held/{batch_id:id}/confirm", page(confirm_batch), methods=["POST"]
    ),
    Route(
        "/council/polls/{poll_id:id}/paper/held/{batch_id:id}/reject", page(reject_batch), methods=["POST"]
    ),
]
