"""Jury rooms keep going when a client or the channel sends something broken."""

from __future__ import annotations

from typing import Any

import pytest

from polls.domain import jury_protocol as protocol
from polls.domain.jury_room import CommandRefused
from polls.live.jury_rooms import JuryRooms
from polls.settings import Settings
from tests.test_jury_room_e2e import Jury4, connect, last_seq, make_jury


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
