"""The open resources one running app holds, built in the lifespan and handed to endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from polls.live.hub import TallyHub
from polls.live.jury_rooms import JuryRooms
from polls.live.tallies import Tallies
from polls.live.throttle import SignInThrottle
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
    tallies: Tallies
    hub: TallyHub
    booth: VotingBooth
    jury_rooms: JuryRooms
    draining: bool = False  # asked to stop: no longer ready for new work (/readyz)


def runtime(conn: HTTPConnection) -> Runtime:
    rt: Runtime = conn.app.state.runtime
    return rt
