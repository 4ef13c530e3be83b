"""Jury rooms shared across app instances: events fanned out through Redis to local websockets.

Each instance keeps, for every session somebody on it is connected to, the folded state and
the local subscribers. A command is decided and committed through polls.store.jury_sessions,
folded here at once, then published on one Redis channel; every instance folds what it hears.
Events carry their sequence number, so an instance that misses one (a gap, or Redis down for
a while) reads the rest from the database; a sweep every few seconds catches a silent miss (and
events written outside a room, such as ``juror_removed`` when an officer withdraws a juror).
A removed juror's sockets are closed with code 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from polls.domain import jury_protocol as protocol
from polls.domain.jury_commands import decide
from polls.domain.jury_room import CommandRefused, Event, Role, RoomActor, RoomState, fold_in_place
from polls.domain.jury_room import juror_added as juror_added_events
from polls.domain.jury_views import project, view
from polls.store import jury_sessions
from polls.store.db import Database
from polls.store.models import JurySession

log = logging.getLogger("polls.jury_rooms")

CHANNEL = "jury-room-events"
BACKLOG = 500  # messages queued for one slow client before it is told to reconnect


@dataclass(frozen=True)
class Close:
    """Queued last for a subscriber whose socket is to be closed with this code."""

    code: int
    reason: str


TOO_SLOW = Close(4008, "too slow: reconnect")  # the client resumes with its last id
REMOVED = Close(4401, "no longer on the jury")  # a withdrawn juror: the client stops


@dataclass(eq=False)
class Subscriber:
    role: Role
    juror_id: int | None
    queue: asyncio.Queue[str | Close] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def send(self, text: str) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= BACKLOG:
            self.close(TOO_SLOW)
            return
        self.queue.put_nowait(text)

    def close(self, why: Close) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(why)


@dataclass(eq=False)
class Room:
    session_id: int
    state: RoomState
    subscribers: set[Subscriber] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class Joined:
    subscriber: Subscriber
    missed: list[str]  # event messages after the client's last id, in order
    snapshot: str


class JuryRooms:
    def __init__(self, redis: Redis, db: Database, *, sweep_interval: float = 3.0) -> None:
        self.redis = redis
        self.db = db
        self.sweep_interval = sweep_interval
        self.rooms: dict[int, Room] = {}
        self._loading: dict[int, asyncio.Lock] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="jury-room-listen"),
            asyncio.create_task(self._sweep(), name="jury-room-sweep"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 5)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _room(self, session_id: int) -> Room:
        room = self.rooms.get(session_id)
        if room is not None:
            return room
        async with self._loading.setdefault(session_id, asyncio.Lock()):
            room = self.rooms.get(session_id)
            if room is None:
                async with self.db() as session:
                    state = await jury_sessions.load_state(session, session_id)
                room = self.rooms[session_id] = Room(session_id, state)
        return room

    async def state(self, session_id: int) -> RoomState:
        """The live state where someone here follows the room; otherwise read from the log."""
        room = self.rooms.get(session_id)
        if room is not None:
            return room.state
        async with self.db() as session:
            return await jury_sessions.load_state(session, session_id)

    @contextlib.asynccontextmanager
    async def join(
        self, session_id: int, role: Role, juror_id: int | None = None, *, after: int | None = None
    ) -> AsyncIterator[Joined]:
        """Subscribe; yields what the client missed since ``after`` and a snapshot, after which
        the subscriber's queue carries every later event exactly once, in order."""
        subscriber = Subscriber(role, juror_id)
        while True:
            room = await self._room(session_id)
            async with room.lock:  # no event is folded between subscribing and taking the snapshot
                if self.rooms.get(session_id) is not room:
                    continue  # its last subscriber left while we waited: load it afresh
                room.subscribers.add(subscriber)
                seq = room.state.seq
                snapshot = protocol.snapshot(seq, view(room.state, role, juror_id))
                break
        try:
            missed: list[str] = []
            if after is not None and after < seq:
                async with self.db() as session:
                    past = await jury_sessions.events(session, session_id, after=max(0, after), upto=seq)
                missed = [protocol.event(e.seq, project(e, role, juror_id)) for e in past]
            yield Joined(subscriber, missed, snapshot)
        finally:
            room.subscribers.discard(subscriber)
            if not room.subscribers and self.rooms.get(session_id) is room:
                del self.rooms[session_id]

    async def command(
        self, session_id: int, actor: RoomActor, command: Mapping[str, Any], *, audit_actor: str | None
    ) -> list[Event]:
        """Decide, commit, fold and publish one command; CommandRefused changes nothing.

        The command is checked against this instance's state first, so ones refused whatever
        the room's state (an observer voting, a flood of junk) never reach the database. One
        refused only for the room's state (not_allowed, not_found) may have been refused on a
        past this instance has not caught up with (the moderator opened the vote on another
        instance a moment ago), so the store decides it again on the log's end, under its lock.
        """
        state = await self.state(session_id)
        try:
            decide(state, actor, command, now=time.time())
        except CommandRefused as refused:
            if refused.code not in ("not_allowed", "not_found"):
                raise
        stored, _ = await jury_sessions.append(
            self.db,
            session_id,
            state,
            lambda current: decide(current, actor, command, now=time.time()),
            audit_actor=audit_actor,
        )
        await self._deliver(session_id, stored)
        return stored

    async def add_juror(self, session_id: int, juror_id: int, name: str) -> None:
        """A juror who accepted after the session was made joins its panel on arrival (nothing is
        written when they are on it already or the session has ended)."""
        state = await self.state(session_id)
        if not juror_added_events(state, juror_id, name, now=time.time()):
            return
        stored, _ = await jury_sessions.append(
            self.db,
            session_id,
            state,
            lambda current: juror_added_events(current, juror_id, name, now=time.time()),
        )
        await self._deliver(session_id, stored)

    async def _deliver(self, session_id: int, stored: list[Event]) -> None:
        if not stored:
            return
        await self._receive(session_id, stored)
        message = json.dumps({"s": session_id, "e": [[e.seq, e.type, e.data, e.at] for e in stored]})
        try:
            await self.redis.publish(CHANNEL, message)
        except (RedisError, OSError) as exc:  # committed already: other instances catch up by sweeping
            log.warning("could not publish jury room events (%s); other instances will catch up", exc)

    async def _receive(self, session_id: int, events: list[Event]) -> None:
        room = self.rooms.get(session_id)
        if room is None:
            return
        async with room.lock:
            new = [e for e in events if e.seq > room.state.seq]
            if events and not new:
                return
            if not new or new[0].seq != room.state.seq + 1:  # a gap, or a sweep: read the log
                async with self.db() as session:
                    new = await jury_sessions.events(session, session_id, after=room.state.seq)
                if not new:
                    return
            fold_in_place(room.state, new)
            self._fan_out(room, new)

    def _fan_out(self, room: Room, new: list[Event]) -> None:
        """One message per audience, shared by every subscriber in it (observers are the many)."""
        cache: dict[tuple[Role, int | None], list[str]] = {}
        last = new[-1].seq
        for subscriber in list(room.subscribers):
            key = (subscriber.role, subscriber.juror_id)
            messages = cache.get(key)
            if messages is None:
                state = view(room.state, *key)
                messages = cache[key] = [
                    protocol.event(e.seq, project(e, *key), state if e.seq == last else None) for e in new
                ]
            for text in messages:
                subscriber.send(text)
        removed = {e.data["juror"] for e in new if e.type == "juror_removed"}
        for subscriber in room.subscribers:
            if subscriber.role is Role.JUROR and subscriber.juror_id in removed:
                subscriber.close(REMOVED)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._listening.set()
                    async for message in pubsub.listen():
                        if message["type"] != "message":
                            continue
                        heard = _decode(message["data"])
                        if heard is not None and heard[0] in self.rooms:
                            await self._heard(*heard)
            except (RedisError, OSError) as exc:
                log.warning("jury room channel lost (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
                await self._heard(None, [])  # whatever was published meanwhile is in the database

    async def _heard(self, session_id: int | None, events: list[Event]) -> None:
        """Fold what the channel brought (or, with no session, catch every room up); a database
        that fails here only delays it: the sweep reads the log again."""
        try:
            if session_id is None:
                await self._catch_up()
            else:
                await self._receive(session_id, events)
        except Exception:
            log.warning("jury room events not folded yet; the sweep will catch up", exc_info=True)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                await self._catch_up()
            except Exception:  # the database away for a moment: the next sweep tries again
                log.warning("jury room sweep failed", exc_info=True)

    async def _catch_up(self) -> None:
        if not self.rooms:
            return
        async with self.db() as session:
            query = select(JurySession.id, JurySession.last_seq).where(JurySession.id.in_(list(self.rooms)))
            heads = {session_id: last for session_id, last in await session.execute(query)}
        for session_id, last in heads.items():
            room = self.rooms.get(session_id)
            if room is not None and last > room.state.seq:
                await self._receive(session_id, [])


def _decode(data: Any) -> tuple[int, list[Event]] | None:
    """A channel message as (session, events); anything else is logged and skipped, so one bad
    message cannot stop the listener (a lost event shows up as a gap, read from the database)."""
    try:
        body = json.loads(data)
        session_id = body["s"]
        events = [Event(str(t), dict(d), float(at), int(seq)) for seq, t, d, at in body["e"]]
        if type(session_id) is not int:
            raise TypeError("session id")
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        log.warning("skipped a jury room message that could not be read (%s)", type(exc).__name__)
        return None
    return session_id, events
