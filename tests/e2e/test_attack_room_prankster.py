"""Adversary: a prankster in the jury room (a juror's link, or just an observer). Sends text
that is valid JSON but not valid Unicode, a lone UTF-16 surrogate written as an escape, in
the ``ref`` or any text field, hoping the server echoes or broadcasts it and cannot encode it:
that used to kill the socket with a traceback (and stored text would reach every audience).
Every text field of every message is checked; the answer is a protocol error, nothing is
stored, and the socket stays open."""

from __future__ import annotations

import pytest

from polls.settings import Settings
from tests.e2e.test_jury_room_e2e import Jury4, connect, last_seq, make_jury, moderator_cookie

pytestmark = pytest.mark.e2e

LONE = "\\ud800"  # as JSON escapes: a high surrogate with no low one after it


@pytest.fixture
async def jury(settings: Settings) -> Jury4:
    return await make_jury(settings)


@pytest.mark.parametrize(
    "raw",
    [
        '{"v":2,"type":"ping","ref":"' + LONE + '"}',
        '{"v":2,"type":"draft_recommendation","text":"Trees ' + LONE + '"}',
        '{"v":2,"type":"open_straw_poll","question":"Which?","options":["a","b' + LONE + '"]}',
        '{"v":2,"type":"publish","kind":"document","title":"T","text":"x\\u0000y"}',
        '{"v":2,"type":"ping","' + LONE + '":1}',
    ],
)
async def test_invalid_text_gets_a_protocol_error_and_the_socket_stays_open(
    live_server: str, settings: Settings, jury: Jury4, raw: str
) -> None:
    cookie = await moderator_cookie(live_server)
    async with connect(live_server, jury.session_id, cookie=cookie) as mod:
        await mod.joined()
        await mod.send({"type": "start_session"})
        await mod.until("event")
        before = await last_seq(settings, jury.session_id)
        await mod.send(raw)
        error = await mod.until("error")
        assert error["code"] == "malformed"
        assert error["ref"] is None
        await mod.send({"type": "ping", "ref": 9})
        assert (await mod.until("pong"))["ref"] == 9
        assert await last_seq(settings, jury.session_id) == before
