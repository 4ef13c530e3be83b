"""The room fragment jury.js fetches after each change: from memory, cached for the public, no writes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from polls.http.juries import room_pages as jury_room
from polls.settings import Settings
from tests.e2e.test_jury_room_access import set_status
from tests.e2e.test_jury_room_e2e import (
    MODERATOR_EMAIL,
    MODERATOR_PASSWORD,
    Jury4,
    connect,
    last_seq,
    make_jury,
    moderator_cookie,
)


@pytest.fixture
async def jury(settings: Settings) -> Jury4:
    return await make_jury(settings)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The templates the jury room module renders, in order."""
    seen: list[str] = []
    real = jury_room.render

    def counting(request: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(name)
        return real(request, name, *args, **kwargs)

    monkeypatch.setattr(jury_room, "render", counting)
    return seen


def seq_of(html: str) -> int:
    return int(html.split('data-seq="')[1].split('"')[0])


async def test_many_observers_asking_after_one_change_cost_one_render(
    live_server: str, settings: Settings, jury: Jury4, renders: list[str]
) -> None:
    url = f"/jury-sessions/{jury.session_id}/fragment?as=observer"
    cookie = await moderator_cookie(live_server)
    async with (
        connect(live_server, jury.session_id, cookie=cookie) as mod,
        connect(live_server, jury.session_id) as observer,  # the room is followed on this instance
        httpx.AsyncClient(base_url=f"http://{live_server}") as http,
    ):
        await mod.joined()
        await observer.joined()
        first = await asyncio.gather(*(http.get(url) for _ in range(50)))
        assert {r.status_code for r in first} == {200}
        assert len({r.text for r in first}) == 1 and renders.count("jury_room/_room.html") == 1
        page = first[0]
        assert 'id="jury-room"' in page.text and "<html" not in page.text
        assert page.headers["cache-control"] == "no-store" and float(page.headers["x-server-now"]) > 0
        assert "Watching live" in page.text and "Not started" in page.text

        await mod.send({"type": "start_session"})
        await observer.until("event")
        after = await asyncio.gather(*(http.get(url) for _ in range(50)))
        assert {seq_of(r.text) for r in after} == {seq_of(page.text) + 1}
        assert all(">Live<" in r.text for r in after)
        assert renders.count("jury_room/_room.html") == 2


async def test_moderator_and_juror_fragments_are_their_own_and_write_nothing(
    live_server: str, settings: Settings, jury: Jury4
) -> None:
    before = await last_seq(settings, jury.session_id)
    ann = jury.tokens[jury.jurors[0]]
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        mine = await http.get(f"/jury-sessions/{jury.session_id}/fragment?token={ann}")
        assert mine.status_code == 200 and "Ann" in mine.text
        assert f'data-fragment="/jury-sessions/{jury.session_id}/fragment?token={ann}"' in mine.text
        forged = await http.get(f"/jury-sessions/{jury.session_id}/fragment?token=jr_forged")
        assert forged.status_code == 403
        await http.post("/api/session", json={"email": MODERATOR_EMAIL, "password": MODERATOR_PASSWORD})
        console = await http.get(f"/jury-sessions/{jury.session_id}/fragment")
        assert console.status_code == 200 and "Moderator's console" in console.text
        assert 'name="csrf_token" value=""' not in console.text  # every button posts without JS too
        watching = await http.get(f"/jury-sessions/{jury.session_id}/fragment?as=observer")
        assert "Watching live" in watching.text and "Moderator's console" not in watching.text
        page = await http.get(f"/council/jury-sessions/{jury.session_id}")
        assert f'data-fragment="/jury-sessions/{jury.session_id}/fragment"' in page.text
    assert await last_seq(settings, jury.session_id) == before


async def test_the_public_fragment_waits_for_the_lottery_to_be_public(
    live_server: str, settings: Settings, jury: Jury4
) -> None:
    await set_status(settings, jury.jury_id, "computed")
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        hidden = await http.get(f"/jury-sessions/{jury.session_id}/fragment?as=observer")
        assert hidden.status_code == 404 and "How should buses change?" not in hidden.text
