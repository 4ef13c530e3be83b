"""Who is on a jury room's panel follows the jury: a withdrawn juror leaves the room at once."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import websockets

from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import Juror, PoolMember
from polls.tokens import JUROR_ROOM, Tokens
from tests.conftest import sign_in
from tests.e2e.test_jury_room_e2e import Client, connect, last_seq, make_jury
from tests.factories import csrf_from
from tests.integration.test_jury_selection_invitations import answer, inviting_jury


async def jury_in_session(
    http: httpx.AsyncClient, settings: Settings, names: list[str]
) -> tuple[dict[str, Any], int, dict[str, tuple[int, str]]]:
    """A drawn jury whose first jurors accepted with ``names``, and a session for it: the jury,
    the session id and each name's (juror id, room token)."""
    jury, sent = await inviting_jury(http)
    jurors = {}
    async with httpx.AsyncClient(base_url=http.base_url) as person:
        for row, name in zip(sent, names, strict=False):
            accepted = await answer(person, row["link"], choice="accept", display_name=name)
            token = accepted.text.split('id="room-link" href="')[1].split('"')[0].split("/room/")[1]
            jurors[name] = (int(Tokens(settings.secret_keys).read(JUROR_ROOM, token)["j"]), token)
    page = await http.get(f"/council/juries/{jury['id']}/sessions")
    made = await http.post(
        f"/council/juries/{jury['id']}/sessions", data={"csrf_token": csrf_from(page.text), "title": "Day 1"}
    )
    assert made.status_code == 303, made.text
    return jury, int(made.headers["location"].rsplit("/", 1)[1]), jurors


async def until_event(client: Client, kind: str, wait: float = 10) -> dict[str, Any]:
    while True:
        message = await client.until("event", wait)
        if message["event"]["type"] == kind:
            return message


async def test_a_withdrawn_juror_leaves_the_room_and_their_open_socket_is_closed(
    live_server: str, settings: Settings, admin: int
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        await sign_in(http)
        jury, session_id, jurors = await jury_in_session(http, settings, ["Kim", "Lee"])
        (kim, kim_token), (lee, lee_token) = jurors["Kim"], jurors["Lee"]
        cookie = f"polls_session={http.cookies['polls_session']}"
        async with (
            connect(live_server, session_id, cookie=cookie) as mod,
            connect(live_server, session_id, f"?token={kim_token}") as kim_socket,
            connect(live_server, session_id, f"?token={lee_token}") as lee_socket,
        ):
            for client in (mod, kim_socket, lee_socket):
                await client.joined()
            await mod.send({"type": "start_session"})
            await mod.send({"type": "draft_recommendation", "text": "More buses"})
            rec = (await until_event(mod, "recommendation_drafted"))["event"]["id"]
            await kim_socket.send({"type": "raise_hand"})
            await kim_socket.until("ack")
            # A named vote: a withdrawn juror's ballot can be found, and leaves the open vote.
            await mod.send({"type": "open_vote", "recommendation": rec, "ballot": "named"})
            await until_event(kim_socket, "vote_opened")
            for client in (kim_socket, lee_socket):
                await client.send({"type": "vote", "recommendation": rec, "choice": "yes", "ref": "v"})
                assert (await client.until("ack"))["ref"] == "v"
            withdrawn = await http.post(f"/api/juries/{jury['id']}/jurors/{kim}/withdraw")
            assert withdrawn.status_code == 200, withdrawn.text

            removed = await until_event(mod, "juror_removed")  # the sweep brings it within seconds
            assert removed["event"]["juror"] == kim
            state = removed["state"]
            assert [j["juror"] for j in state["jurors"]] == [lee]
            assert state["queue"] == [] and state["recommendations"][0]["voters"] == 1
            assert (await until_event(kim_socket, "juror_removed"))["event"]["juror"] == kim
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await kim_socket.next()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
            await lee_socket.send({"type": "ping", "ref": 1})  # the others stay connected
            assert (await lee_socket.until("pong"))["ref"] == 1
        async with connect(live_server, session_id, f"?token={kim_token}") as again:
            assert (await again.next())["code"] == "unauthorised"
            with pytest.raises(websockets.ConnectionClosed):
                await again.next()


async def test_a_late_juror_arriving_after_the_session_ended_changes_nothing(
    live_server: str, settings: Settings
) -> None:
    from polls.domain.jury_commands import decide
    from polls.domain.jury_room import MODERATOR
    from polls.store.jury_sessions import append, load_state

    made = await make_jury(settings)
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    db = sessions_for(engine)
    async with db() as s:
        state = await load_state(s, made.session_id)
    await append(
        db, made.session_id, state, lambda st: decide(st, MODERATOR, {"type": "end_session"}, now=1e9)
    )
    async with db.begin() as s:
        member = PoolMember(jury_id=made.jury_id, person_id="late", position=9, features={})
        s.add(member)
        await s.flush()
        late = Juror(jury_id=made.jury_id, pool_member_id=member.id, role="reserve", position=9, seat=2)
        late.status, late.room_nonce, late.display_name = "accepted", secrets.token_hex(8), "Eve"
        s.add(late)
        await s.flush()
        token = Tokens(settings.secret_keys).sign(JUROR_ROOM, {"j": late.id, "n": late.room_nonce})
    await engine.dispose()
    before = await last_seq(settings, made.session_id)
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        page = await http.get(f"/juries/{made.jury_id}/room/{token}")
        assert page.status_code == 200 and "This session has ended" in page.text
    async with connect(live_server, made.session_id, f"?token={token}") as eve:
        welcome, snapshot = await eve.joined()
        assert welcome["role"] == "juror" and snapshot["state"]["status"] == "ended"
    assert await last_seq(settings, made.session_id) == before
