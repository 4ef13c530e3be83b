"""A jury's sessions are public only once its lottery is; staff who may see the pilot see them before."""

from __future__ import annotations

import httpx
import pytest
import websockets
from sqlalchemy import update

from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import Jury
from tests.e2e.test_jury_room_e2e import MODERATOR_EMAIL, MODERATOR_PASSWORD, Jury4, connect, make_jury

PUBLIC_PAGES = ("", "/report", "/report.json", "/report.csv")


async def set_status(settings: Settings, jury_id: int, status: str) -> None:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as s:
        await s.execute(update(Jury).where(Jury.id == jury_id).values(status=status))
    await engine.dispose()


@pytest.fixture
async def unpublished(settings: Settings) -> Jury4:
    """A jury whose lottery is computed but not yet public, with a session already made."""
    jury = await make_jury(settings)
    await set_status(settings, jury.jury_id, "computed")
    return jury


async def test_the_public_cannot_watch_before_the_lottery_is_public(
    live_server: str, settings: Settings, unpublished: Jury4
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        for page in PUBLIC_PAGES:
            response = await http.get(f"/jury-sessions/{unpublished.session_id}{page}")
            assert response.status_code == 404, page
            assert "How should buses change?" not in response.text
    for session_id in (unpublished.session_id, 999_999):  # as if there were no such session
        async with connect(live_server, session_id) as refused:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await refused.next()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    await set_status(settings, unpublished.jury_id, "published")
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        for page in PUBLIC_PAGES:
            assert (await http.get(f"/jury-sessions/{unpublished.session_id}{page}")).status_code == 200
    async with connect(live_server, unpublished.session_id) as observer:
        welcome, _ = await observer.joined()
        assert welcome["role"] == "observer"


async def test_staff_and_jurors_may_see_a_session_before_the_lottery_is_public(
    live_server: str, unpublished: Jury4
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        await http.post("/api/session", json={"email": MODERATOR_EMAIL, "password": MODERATOR_PASSWORD})
        for page in PUBLIC_PAGES:
            assert (await http.get(f"/jury-sessions/{unpublished.session_id}{page}")).status_code == 200
        cookie = f"polls_session={http.cookies['polls_session']}"
    async with connect(live_server, unpublished.session_id, "?as=observer", cookie=cookie) as watcher:
        welcome, snapshot = await watcher.joined()
        assert welcome["role"] == "observer" and snapshot["state"]["remit"] == "How should buses change?"
    token = unpublished.tokens[unpublished.jurors[0]]
    async with connect(live_server, unpublished.session_id, f"?token={token}") as juror:
        welcome, _ = await juror.joined()
        assert welcome["role"] == "juror"
