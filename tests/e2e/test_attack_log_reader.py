"""Adversary: the log reader. Whoever reads the service's logs (an operator, a log shipper, a
support contractor) finds no code, short code, voting link, staff token or invitation in them,
at any level, and no client address to set against the live feed.

The attack: run the staff and voting journeys against the app under uvicorn with every logger at
DEBUG and the access log on, keep every line (plain, and as `polls serve` writes it: JSON with the
request id and every extra field), and look in them for each secret issued."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import websockets
from redis.asyncio import Redis

from polls import demo, logs
from polls.app import create_app
from polls.demo.jury import demo_room_links
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.tokens import Tokens
from tests.conftest import sign_in
from tests.factories import csrf_from, make_pilot, make_poll
from tests.servers import in_this_process

pytestmark = pytest.mark.e2e

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "polls", "httpx", "httpcore", "websockets")


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

        self.as_served = logs.formatter("json")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(self.as_served.format(record))


@pytest.fixture
def captured() -> Iterator[Everything]:
    handler = Everything()
    before = {name: (logging.getLogger(name).level, logging.getLogger(name).propagate) for name in LOGGERS}
    yield handler
    for name, (level, propagate) in before.items():
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
async def debug_server(settings: Settings, redis: Redis, captured: Everything) -> AsyncIterator[str]:
    """The app under uvicorn, configured as `polls serve` configures it but at DEBUG, every
    logger's records going to ``captured`` (attached once uvicorn has set up its own loggers)."""

    def capture_everything() -> None:
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(logging.DEBUG)
            logger.addHandler(captured)
            logger.propagate = False

    app = create_app(settings, run_scheduler=False)
    async with in_this_process(app, log_level="debug", when_configured=capture_everything) as address:
        yield address


async def _staff_journey(http: httpx.AsyncClient, pilot_id: int) -> list[str]:
    """An admin invites an officer, who sets a password through the link and signs in."""
    invited = await http.put(
        f"/api/pilots/{pilot_id}/staff",
        json={"email": "new.officer@council.example", "role": "council_admin", "name": "Nia Officer"},
    )
    assert invited.status_code == 201, invited.text
    # Only its path: links handed out name BASE_URL, not this test server's port.
    link = "/staff/welcome?" + invited.json()["invitation_link"].split("?", 1)[1]
    async with httpx.AsyncClient(base_url=str(http.base_url)) as newcomer:
        page = await newcomer.get(link)
        assert page.status_code == 200, page.text
        chosen = "a long and private passphrase"
        done = await newcomer.post(
            link, data={"csrf_token": csrf_from(page.text), "password": chosen, "confirm": chosen}
        )
        assert done.status_code in (200, 303), done.text
        await sign_in(newcomer, "new.officer@council.example", chosen)
        session_cookies = [c.value for c in newcomer.cookies.jar]
    return [link.split("token=")[1], chosen, *session_cookies]


async def _voting_journey(http: httpx.AsyncClient, address: str, pilot_id: int) -> list[str]:
    """Cards issued; residents open a card's short link, its voting link, and vote by code."""
    area = (await http.post(f"/api/pilots/{pilot_id}/areas", json={"name": "North", "code": "N1"})).json()
    poll = await make_poll(http, pilot_id, results_visibility="live")
    assert (await http.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    issued = await http.post(f"/api/pilots/{pilot_id}/codes", json={"area_id": area["id"], "count": 3})
    assert issued.status_code == 200, issued.text
    cards = list(csv.DictReader(io.StringIO(issued.text)))
    question = poll["questions"][0]
    answers = {str(question["id"]): question["options"][0]["id"]}
    async with websockets.connect(f"ws://{address}/live/polls/{poll['id']}") as watcher:
        async with httpx.AsyncClient(base_url=str(http.base_url), follow_redirects=True) as resident:
            for column, card in (("short_link", cards[0]), ("link", cards[1])):
                path = "/" + card[column].split("/", 3)[3]  # links name BASE_URL, not this server
                assert (await resident.get(path)).status_code == 200
            for card in cards:
                voted = await resident.post(
                    f"/api/polls/{poll['id']}/votes", json={"code": card["short_code"], "answers": answers}
                )
                assert voted.status_code == 201, voted.text
        await asyncio.wait_for(watcher.recv(), 5)
    return [s for card in cards for s in (card["short_code"], card["link"], card["short_link"])]


async def _jury_journey(settings: Settings, address: str) -> list[str]:
    """A juror opens their room link and its socket."""
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            info = await demo.seed(session)
            links = await demo_room_links(
                session, Tokens(settings.secret_keys), f"http://{address}", info.jury_id
            )
    finally:
        await engine.dispose()
    link = links[0][1]
    token = link.rsplit("/", 1)[1]
    async with httpx.AsyncClient() as juror:
        assert (await juror.get(link)).status_code == 200
    async with websockets.connect(f"ws://{address}/live/jury-sessions/{info.jury_session_id}?token={token}"):
        pass
    return [token]


def _pieces(secret: str) -> list[str]:
    """A secret and the parts of it that would still be worth something: a token's signature,
    a code written without its dashes, the token inside a link."""
    pieces = {secret, secret.replace("-", "")}
    for token in re.findall(r"(?:ss|si|vc|ji|jr)_[A-Za-z0-9_.\-]+", secret):
        pieces |= {token, token.rsplit(".", 1)[-1]}
    if "/c/" in secret:
        pieces.add(secret.rsplit("/c/", 1)[1])
    return [p for p in pieces if len(p) >= 8]


async def test_no_secret_and_no_client_address_reaches_any_log_line_at_debug(
    debug_server: str, settings: Settings, admin: int, captured: Everything
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{debug_server}") as http:
        await sign_in(http)
        pilot = await make_pilot(http)
        secrets = await _staff_journey(http, pilot["id"])
        secrets += await _voting_journey(http, debug_server, pilot["id"])
    secrets += await _jury_journey(settings, debug_server)
    text = "\n".join(captured.lines)

    # The logs were captured, access lines included: the test could have found something.
    assert "GET /c/[hidden]" in text and "/v/vc_[hidden]" in text and "token=[hidden]" in text
    assert '"logger": "polls.access"' in text and '"request_id": ' in text
    assert any(line.startswith("DEBUG ") for line in captured.lines)
    for secret in secrets:
        for piece in _pieces(secret):
            assert piece not in text, f"{piece!r} is in the logs"
    # aiosqlite logs each call with its SQL and parameters at DEBUG: ballots' answers, code
    # digests and residents' addresses would follow. Its records stop at INFO.
    assert not [line for line in captured.lines if " aiosqlite: " in line]
    server_port = debug_server.rsplit(":", 1)[1]
    clients = {port for port in re.findall(r"127\.0\.0\.1:(\d+)", text) if port != server_port}
    assert not clients, f"client addresses in the logs: {sorted(clients)[:5]}"
