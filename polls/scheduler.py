"""Opens and closes scheduled polls at their times; safe with several app instances.

Each instance wakes every few seconds and looks for due polls. The poll row is locked and its
status re-checked inside the transition, so when two instances race, one moves the poll and
the other finds nothing left to do. Hourly it also erases jury pools' personal data once due
(polls.store.personal_data), locking each jury the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from polls.domain.polls import Action
from polls.errors import Conflict, NotFound
from polls.metrics import SCHEDULER_MOVES
from polls.store import lifecycle as poll_lifecycle
from polls.store import personal_data
from polls.store.db import Database
from polls.store.models import utcnow

log = logging.getLogger("polls.scheduler")


async def run_due(
    db: Database, now: datetime | None = None, on_closed: Callable[[int], Awaitable[None]] | None = None
) -> list[tuple[int, str]]:
    """One pass: returns the (poll id, action) pairs this instance carried out. ``on_closed``
    (the live tallies) hears of each poll it closed, once the close has committed."""
    now = now or utcnow()
    async with db() as session:
        due = await poll_lifecycle.due_polls(session, now)
    done = []
    for poll_id, action in due:
        try:
            async with db.begin() as session:
                await poll_lifecycle.transition(session, None, poll_id, action, now)
            done.append((poll_id, action.value))
            SCHEDULER_MOVES.labels(action.value).inc()
            if action is Action.CLOSE and on_closed is not None:
                await on_closed(poll_id)
            log.info("poll %s: %s (scheduled)", poll_id, action.value)
        except (Conflict, NotFound):
            pass  # another instance got there first, or an officer moved it meanwhile
    return done


async def run_forever(
    db: Database, interval: float, on_closed: Callable[[int], Awaitable[None]] | None = None
) -> None:
    while True:
        try:
            await run_due(db, on_closed=on_closed)
        except Exception:  # keep the loop alive through a database blip; log it
            log.exception("scheduler pass failed")
        await asyncio.sleep(interval)


async def erase_personal_data_forever(db: Database, interval: float = 3600.0) -> None:
    """`polls retention run`, hourly: jury pools' personal data erased once due."""
    while True:
        try:
            async with db.begin() as session:
                for erased in await personal_data.erase_due(session):
                    log.info("jury %s: personal data of %d people erased", erased.jury_id, erased.people)
        except Exception:
            log.exception("retention pass failed")
        await asyncio.sleep(interval)
