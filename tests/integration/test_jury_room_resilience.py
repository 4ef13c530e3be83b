"""Jury rooms keep going when a client or the channel sends something broken."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from polls.domain import jury_protocol as protocol
from polls.domain.jury_room import CommandRefused
from polls.live.jury_rooms import CHANNEL, JuryRooms
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from tests.e2e.test_jury_room_e2e import Jury4, connect, last_seq, make_jury


@pytest.fixture
async def jury(settings: Settings) -> Jury4:
    return await make_jury(settings)


def test_json_nested_too_deep_to_read_is_malformed() -> None:
    with pytest.raises(CommandRefused) as caught:
        protocol.parse("[" * 15_000)
    assert caught.value.code == "malformed"


async def test_a_deeply_nested_frame_is_refused_and_the_socket_stays_open(
    live_server: str, settings: Settings, jury: Jury4
) -> None:
    before = await last_seq(settings, jury.session_id)
    async with connect(live_server, jury.session_id) as observer:
        await observer.joined()
        await observer.send("[" * 15_000)
        assert (await observer.until("error"))["code"] == "malformed"
        await observer.send({"type": "ping", "ref": 1})
        assert (await observer.until("pong"))["ref"] == 1
    assert await last_seq(settings, jury.session_id) == before


async def test_an_unexpected_failure_is_answered_and_the_socket_stays_open(
    live_server: str, jury: Jury4, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(JuryRooms, "command", broken)
    async with connect(live_server, jury.session_id, f"?token={jury.tokens[jury.jurors[0]]}") as juror:
        await juror.joined()
        await juror.send({"type": "raise_hand", "ref": "r"})
        error = await juror.until("error")
        assert (error["code"], error["ref"]) == ("unavailable", "r")
        await juror.send({"type": "ping", "ref": 2})
        assert (await juror.until("pong"))["ref"] == 2


@pytest.mark.parametrize(
    "garbage",
    ["not json", "[1, 2]", '{"e": []}', '{"s": 1, "e": [[1]]}', '{"s": "x", "e": 5}', "\xff"],
)
async def test_garbage_on_the_channel_is_skipped_and_the_listener_keeps_folding(
    settings: Settings, redis: Redis, garbage: str
) -> None:
    from polls.domain.jury_commands import decide
    from polls.domain.jury_room import MODERATOR
    from polls.store.jury_sessions import append, load_state

    made = await make_jury(settings)
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    db = sessions_for(engine)
    # A long sweep interval: only the channel can bring the event in time.
    rooms = JuryRooms(redis, db, sweep_interval=600)
    await rooms.start()
    try:
        async with rooms.join(made.session_id, MODERATOR.role) as joined:
            await redis.publish(CHANNEL, garbage)
            if garbage != "\xff":
                await redis.publish(CHANNEL, garbage.replace('"s": 1', f'"s": {made.session_id}'))
            async with db() as s:
                state = await load_state(s, made.session_id)
            stored, _ = await append(
                db,
                made.session_id,
                state,
                lambda st: decide(st, MODERATOR, {"type": "start_session"}, now=1e9),
            )
            other = JuryRooms(redis, db, sweep_interval=600)  # publishes as another instance would
            await other._deliver(made.session_id, stored)
            text = await asyncio.wait_for(joined.subscriber.queue.get(), 3)
            assert text is not None and '"session_started"' in text
            assert not any(task.done() for task in rooms._tasks)
    finally:
        await rooms.stop()
        await engine.dispose()


async def test_a_command_refused_on_a_stale_state_is_decided_again_on_the_log(
    settings: Settings, redis: Redis
) -> None:
    """The moderator opened the vote on another instance, whose message has not arrived here yet."""
    from polls.domain.jury_commands import decide
    from polls.domain.jury_room import MODERATOR, RoomActor
    from polls.store.jury_sessions import append, load_state

    made = await make_jury(settings)
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    db = sessions_for(engine)
    rooms = JuryRooms(redis, db, sweep_interval=600)
    juror = RoomActor.juror(made.jurors[0])
    try:
        async with rooms.join(made.session_id, MODERATOR.role):
            for command in ({"type": "start_session"}, {"type": "draft_recommendation", "text": "R"}):
                await rooms.command(made.session_id, MODERATOR, command, audit_actor=None)
            rec = rooms.rooms[made.session_id].state.recommendations[0].id
            async with db() as s:
                state = await load_state(s, made.session_id)
            opened = {"type": "open_vote", "recommendation": rec}
            await append(db, made.session_id, state, lambda st: decide(st, MODERATOR, opened, now=1e9))
            assert rooms.rooms[made.session_id].state.recommendations[0].status == "draft"  # not heard

            vote = {"type": "vote", "recommendation": rec, "choice": "yes"}
            [cast] = await rooms.command(made.session_id, juror, vote, audit_actor=None)
            assert cast.type == "juror_voted" and "choice" not in cast.data
            assert rooms.rooms[made.session_id].state.recommendations[0].voters == {made.jurors[0]}
            before = await last_seq(settings, made.session_id)
            with pytest.raises(CommandRefused) as caught:  # still refused when the log says no
                await rooms.command(made.session_id, juror, {"type": "lower_hand"}, audit_actor=None)
            assert caught.value.code == "not_allowed"
            assert await last_seq(settings, made.session_id) == before
    finally:
        await engine.dispose()
