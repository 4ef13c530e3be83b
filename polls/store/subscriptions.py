"""Residents' "tell me when the results are published": written in shuffled batches (the live
layer holds them until a batch is due: polls.live.subscriptions), each with a confirmation
message; once the poll's results are published, each becomes one message and is deleted.

A subscription holds the poll and where to write, nothing of the ballot. Links in the messages
are paths, completed with BASE_URL when sent (polls.messaging.worker).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.messages import Purpose
from polls.domain.polls import PollStatus
from polls.store import messages as outbox
from polls.store.models import Pilot, Poll, ResultSubscription

BATCH = 500  # subscriptions turned into messages per transaction


class Subscriber(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def language(self) -> str: ...


def new_id() -> str:
    return secrets.token_urlsafe(24)  # 32 characters


def unsubscribe_path(poll_id: int, subscription_id: str) -> str:
    return f"/polls/{poll_id}/results-subscriptions/{subscription_id}"


def _title(poll: Poll, language: str) -> str:
    return str((poll.translations or {}).get(language, {}).get("title") or poll.title)


async def _council(session: AsyncSession, poll: Poll) -> str:
    return (await session.get_one(Pilot, poll.pilot_id)).council


async def write_batch(session: AsyncSession, poll_id: int, batch: Sequence[Subscriber]) -> None:
    """Write a batch in a random order, each with its confirmation (or, if the results are already
    out, the results message itself)."""
    poll = await session.get_one(Poll, poll_id)
    council = await _council(session, poll)
    shuffled = list(batch)
    secrets.SystemRandom().shuffle(shuffled)
    for one in shuffled:
        title = _title(poll, one.language)
        if poll.status == PollStatus.PUBLISHED:
            await _results_message(session, poll, council, one)
            continue
        session.add(
            ResultSubscription(
                id=one.id,
                poll_id=poll_id,
                channel=one.channel,
                recipient=one.recipient,
                language=one.language,
            )
        )
        await outbox.enqueue(
            session,
            channel=one.channel,
            recipient=one.recipient,
            template="results_subscribed",
            language=one.language,
            personalisation={
                "council": council,
                "poll": title,
                "unsubscribe": unsubscribe_path(poll_id, one.id),
            },
            purpose=Purpose.RESULTS_SUBSCRIBED,
            pilot_id=poll.pilot_id,
            poll_id=poll_id,
            flush=False,
        )


async def _results_message(session: AsyncSession, poll: Poll, council: str, one: Subscriber) -> None:
    await outbox.enqueue(
        session,
        channel=one.channel,
        recipient=one.recipient,
        template="results_published",
        language=one.language,
        personalisation={
            "council": council,
            "poll": _title(poll, one.language),
            "link": f"/polls/{poll.id}/results",
        },
        purpose=Purpose.RESULTS_PUBLISHED,
        pilot_id=poll.pilot_id,
        poll_id=poll.id,
        flush=False,
    )


async def tell_published(session: AsyncSession) -> int:
    """Turn the subscriptions of polls whose results are published into messages, deleting them
    in the same transaction; racing instances take different rows. How many were told."""
    query = (
        select(ResultSubscription)
        .join(Poll, Poll.id == ResultSubscription.poll_id)
        .where(Poll.status == PollStatus.PUBLISHED.value)
        .limit(BATCH)
        .with_for_update(of=ResultSubscription, skip_locked=True)
    )
    subscriptions = list((await session.execute(query)).scalars().all())
    polls: dict[int, tuple[Poll, str]] = {}
    for one in subscriptions:
        if one.poll_id not in polls:
            poll = await session.get_one(Poll, one.poll_id)
            polls[one.poll_id] = (poll, await _council(session, poll))
        await _results_message(session, *polls[one.poll_id], one)
    if subscriptions:
        await session.execute(
            delete(ResultSubscription).where(ResultSubscription.id.in_([s.id for s in subscriptions]))
        )
    return len(subscriptions)


async def unsubscribe(session: AsyncSession, poll_id: int, subscription_id: str) -> bool:
    result = await session.execute(
        delete(ResultSubscription)
        .where(ResultSubscription.id == subscription_id, ResultSubscription.poll_id == poll_id)
        .returning(ResultSubscription.id)
    )
    return result.first() is not None


async def subscriber_count(session: AsyncSession, poll_id: int) -> int:
    query = select(func.count()).select_from(ResultSubscription).where(ResultSubscription.poll_id == poll_id)
    return int((await session.execute(query)).scalar_one())
