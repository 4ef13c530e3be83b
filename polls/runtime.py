"""The open resources one running app holds, built in the lifespan and handed to endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from polls.live.hub import TallyHub
from polls.live.jury_rooms import JuryRooms
from polls.live.subscriptions import PendingSubscriptions
from polls.live.tallies import Tallies
from polls.live.throttle import LinkThrottle, SignInThrottle
from polls.messaging.dev_inbox import DevInbox
from polls.messaging.worker import MessageWorker
from polls.settings import Settings
from polls.store.db import Database
from polls.tokens import Tokens
from polls.voting.booth import VotingBooth


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    db: Database
    redis: Redis
    tokens: Tokens
    signin_throttle: SignInThrottle
    link_throttle: LinkThrottle  # links asked for by email: password resets, room links
    tallies: Tallies
    hub: TallyHub
    booth: VotingBooth
    jury_rooms: JuryRooms
    subscriptions: PendingSubscriptions  # residents' results subscriptions waiting for their batch
    draining: bool = False  # asked to stop: no longer ready for new work (/readyz)
    messages: MessageWorker | None = None  # None: MESSAGES names no sender, so messages wait
    dev_inbox: DevInbox | None = None  # `polls dev` only: what /dev/messages shows

    def messages_queued(self) -> None:
        """Tell this instance's worker to look at the outbox now (others look within seconds)."""
        if self.messages is not None:
            self.messages.wake()


def runtime(conn: HTTPConnection) -> Runtime:
    rt: Runtime = conn.app.state.runtime
    return rt
