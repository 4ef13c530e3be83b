"""Residents waiting for results: writing their subscriptions in batches, and telling them when
the results are published. Each instance sweeps every few seconds; what it does is safe to race
(Redis hands a waiting batch to one instance; the store skips rows another instance holds)."""

from __future__ import annotations

import asyncio
import logging

from polls.domain.polls import PollStatus
from polls.live.subscriptions import Pending, PendingSubscriptions
from polls.store import subscriptions
from polls.store.ballots import load_poll
from polls.store.db import Database

log = logging.getLogger("polls.messages")


async def write(db: Database, pending: PendingSubscriptions, poll_id: int, batch: list[Pending]) -> None:
    """Write a batch taken from Redis; if the database refuses, it waits in Redis again."""
    try:
        async with db.begin() as session:
            await subscriptions.write_batch(session, poll_id, batch)
    except BaseException:
        await pending.put_back(poll_id, batch)
        raise


async def sweep(db: Database, pending: PendingSubscriptions) -> int:
    """Write what waits for polls no longer taking votes (no vote can be dated by it now), then
    turn the subscriptions of published polls into messages; how many residents were told."""
    for poll_id in await pending.waiting_polls():
        async with db() as session:
            status = (await load_poll(session, poll_id)).status
        if status != PollStatus.OPEN:
            batch = await pending.take_all(poll_id)
            if batch:
                await write(db, pending, poll_id, batch)
    told = 0
    while True:
        async with db.begin() as session:
            n = await subscriptions.tell_published(session)
        told += n
        if n < subscriptions.BATCH:
            return told


async def run_forever(db: Database, pending: PendingSubscriptions, interval: float) -> None:
    while True:
        try:
            await sweep(db, pending)
        except Exception:  # keep the loop alive through a database or Redis blip; log it
            log.exception("results subscriptions pass failed")
        await asyncio.sleep(interval)
