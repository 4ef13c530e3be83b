"""Jury rooms end to end: real uvicorn, real websockets clients, real Redis and databases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
import websockets
from redis.asyncio import Redis
from sqlalchemy import select

from polls.app import create_app
from polls.domain.access import Actor
from polls.domain.pilots import Role
from polls.settings import Settings
from polls.store import audit
from polls.store.db import open_engine, sessions_for
from polls.store.jury_sessions import append, create_session, load_state
from polls.store.models import AuditEntry, Juror, Jury, JuryEvent, JurySession, Pilot, PoolMember, StaffRole
from polls.store.staff import create_staff
from polls.tokens import JUROR_ROOM, Tokens
from tests.factories import SECRET, csrf_from
from tests.servers import in_this_process

MODERATOR_EMAIL = "mo@council.example"
MODERATOR_PASSWORD = "moderator password 1"
NAMES = ["Ann", "Bo", "Cy", "Di"]


@dataclass
class Jury4:
    pilot_id: int
    jury_id: int
    session_id: int
    jurors: list[int]
    tokens: dict[int, str]


async def make_jury(settings: Settings) -> Jury4:
    """A pilot with a moderator, a jury of four who accepted, and one session for it."""
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    db = sessions_for(engine)
    async with db.begin() as s:
        pilot = Pilot(
            name="Northshire",
            region="North",
            council="Northshire Council",
            languages=["en"],
            starts_on=date(2027, 1, 1),
            ends_on=date(2027, 12, 31),
            contact_email="d@northshire.example",
        )
        s.add(pilot)
        await s.flush()
        staff = await create_staff(
            s, email=MODERATOR_EMAIL, name="Mo", password=MODERATOR_PASSWORD, actor="test"
        )
        s.add(StaffRole(pilot_id=pilot.id, staff_id=staff.id, role=Role.MODERATOR.value))
        jury = Jury(pilot_id=pilot.id, title="Buses jury", remit="How should buses change?", kind="jury")
        jury.size, jury.threshold, jury.quotas = 4, 75, []
        jury.status = "inviting"  # drawn, its lottery public: the public may watch its sessions
        s.add(jury)
        await s.flush()
        jurors = []
        for n, name in enumerate(NAMES, start=1):
            member = PoolMember(jury_id=jury.id, person_id=f"p{n}", position=n, features={})
            s.add(member)
            await s.flush()
            juror = Juror(jury_id=jury.id, pool_member_id=member.id, role="panel", position=n, seat=n)
            juror.status, juror.room_nonce, juror.display_name = "accepted", secrets.token_hex(8), name
            s.add(juror)
            jurors.append(juror)
        await s.flush()
        actor = Actor(staff.id, MODERATOR_EMAIL, "Mo", roles={pilot.id: Role.MODERATOR})
        session = await create_session(s, actor, jury.id, "Day 1")
        signer = Tokens(settings.secret_keys)
        tokens = {j.id: signer.sign(JUROR_ROOM, {"j": j.id, "n": j.room_nonce}) for j in jurors}
        result = Jury4(pilot.id, jury.id, session.id, [j.id for j in jurors], tokens)
    await engine.dispose()
    return result


@pytest.fixture
async def jury(settings: Settings) -> Jury4:
    return await make_jury(settings)


async def moderator_cookie(server: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        response = await http.post(
            "/api/session", json={"email": MODERATOR_EMAIL, "password": MODERATOR_PASSWORD}
        )
        assert response.status_code == 200, response.text
        return f"polls_session={response.cookies['polls_session']}"


class Client:
    """A websockets client that reads the protocol's messages."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def next(self, wait: float = 3) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), wait))
        return message

    async def until(self, kind: str, wait: float = 3) -> dict[str, Any]:
        while True:
            message = await self.next(wait)
            if message["type"] == kind:
                return message

    async def send(self, command: dict[str, Any] | str | bytes) -> None:
        await self.socket.send(
            command if isinstance(command, str | bytes) else json.dumps({"v": 1, **command})
        )

    async def joined(self) -> tuple[dict[str, Any], dict[str, Any]]:
        welcome = await self.until("welcome")
        return welcome, await self.until("snapshot")


@contextlib.asynccontextmanager
async def connect(
    server: str, session_id: int, query: str = "", cookie: str | None = None
) -> AsyncIterator[Client]:
    headers = {"Cookie": cookie} if cookie else None
    async with websockets.connect(
        f"ws://{server}/live/jury-sessions/{session_id}{query}", additional_headers=headers
    ) as socket:
        yield Client(socket)


async def test_moderator_event_reaches_juror_and_observer(live_server: str, jury: Jury4) -> None:
    cookie = await moderator_cookie(live_server)
    first = jury.jurors[0]
    async with (
        connect(live_server, jury.session_id, cookie=cookie) as mod,
        connect(live_server, jury.session_id, f"?token={jury.tokens[first]}") as juror,
        connect(live_server, jury.session_id) as observer,
    ):
        roles = {}
        for name, client in (("mod", mod), ("juror", juror), ("observer", observer)):
            welcome, snapshot = await client.joined()
            roles[name] = welcome["role"]
            assert snapshot["state"]["status"] == "waiting"
        assert roles == {"mod": "moderator", "juror": "juror", "observer": "observer"}
        await mod.send({"type": "start_session", "ref": "go"})
        assert (await mod.until("ack"))["ref"] == "go"
        for client in (juror, observer):
            event = await client.until("event")
            assert event["event"]["type"] == "session_started" and event["state"]["status"] == "live"
        await juror.send({"type": "raise_hand"})
        seen = await mod.until("event")
        assert seen["state"]["queue"] == [{"juror": first, "name": "Ann"}]
        assert "jurors" in seen["state"]  # speaking totals are for the moderator only
        seen = await observer.until("event")
        assert "jurors" not in seen["state"] and seen["state"]["queue"][0]["name"] == "Ann"


async def test_reconnecting_client_gets_missed_events_in_order_then_live(
    live_server: str, jury: Jury4
) -> None:
    cookie = await moderator_cookie(live_server)
    async with connect(live_server, jury.session_id, cookie=cookie) as mod:
        await mod.joined()
        async with connect(live_server, jury.session_id) as observer:
            _, snapshot = await observer.joined()
            last = snapshot["id"]
        await mod.send({"type": "start_session"})
        await mod.send({"type": "add_item", "phase": "evidence", "title": "Officer", "minutes": 5})
        await mod.send({"type": "draft_recommendation", "text": "Keep route 7"})
        for _ in range(3):
            await mod.until("ack")
        async with connect(live_server, jury.session_id, f"?after={last}") as observer:
            await observer.until("welcome")
            missed = [await observer.next() for _ in range(3)]
            assert [m["type"] for m in missed] == ["event"] * 3
            assert [m["id"] for m in missed] == [last + 1, last + 2, last + 3]
            assert [m["event"]["type"] for m in missed] == [
                "session_started",
                "item_added",
                "recommendation_drafted",
            ]
            snapshot = await observer.next()
            assert snapshot["type"] == "snapshot" and snapshot["id"] == last + 3
            await mod.send({"type": "set_phase", "phase": "evidence"})
            live = await observer.until("event")
            assert live["id"] == last + 4 and live["state"]["phase"] == "evidence"


def second_server(settings: Settings) -> contextlib.AbstractAsyncContextManager[str]:
    return in_this_process(create_app(settings, run_scheduler=False))


async def test_two_app_instances_share_one_room(live_server: str, settings: Settings, jury: Jury4) -> None:
    cookie = await moderator_cookie(live_server)
    first, second = jury.jurors[:2]
    async with (
        second_server(settings) as other,
        connect(live_server, jury.session_id, cookie=cookie) as mod,
        connect(other, jury.session_id) as observer,
        connect(other, jury.session_id, f"?token={jury.tokens[first]}") as juror_a,
        connect(live_server, jury.session_id, f"?token={jury.tokens[second]}") as juror_b,
    ):
        for client in (mod, observer, juror_a, juror_b):
            await client.joined()
        await mod.send({"type": "start_session"})
        assert (await observer.until("event"))["state"]["status"] == "live"
        await mod.until("event")
        await juror_a.send({"type": "raise_hand"})  # on the other instance
        await juror_a.until("ack")
        await juror_b.send({"type": "raise_hand"})
        ids = []
        for _ in range(2):
            event = await mod.until("event")
            ids.append(event["id"])
        assert event["state"]["queue"] == [{"juror": first, "name": "Ann"}, {"juror": second, "name": "Bo"}]
        watched = [(await observer.until("event"))["id"] for _ in range(2)]
        assert watched == ids == [ids[0], ids[0] + 1]


async def test_state_survives_a_missed_redis_message(
    live_server: str, settings: Settings, jury: Jury4
) -> None:
    """An instance that misses a message reads the gap from the database on the next one."""
    cookie = await moderator_cookie(live_server)
    async with connect(live_server, jury.session_id, cookie=cookie) as mod:
        await mod.joined()
        # Written behind the live instance's back (as if its Redis message were lost).
        engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
        db = sessions_for(engine)
        async with db() as s:
            state = await load_state(s, jury.session_id)
        from polls.domain.jury_commands import decide
        from polls.domain.jury_room import MODERATOR

        await append(
            db, jury.session_id, state, lambda st: decide(st, MODERATOR, {"type": "start_session"}, now=1e9)
        )
        await engine.dispose()
        await mod.send({"type": "add_item", "phase": "welcome", "title": "Hello", "minutes": 5})
        events = [await mod.until("event") for _ in range(2)]
        assert [e["event"]["type"] for e in events] == ["session_started", "item_added"]
        assert events[1]["state"]["status"] == "live"


async def test_a_silent_miss_is_caught_up_by_the_sweep(
    live_server: str, settings: Settings, jury: Jury4
) -> None:
    """No later event reveals the gap: the instance's sweep reads the log within seconds."""
    from polls.domain.jury_commands import decide
    from polls.domain.jury_room import MODERATOR

    async with connect(live_server, jury.session_id) as observer:
        await observer.joined()
        engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
        db = sessions_for(engine)
        async with db() as s:
            state = await load_state(s, jury.session_id)
        await append(
            db, jury.session_id, state, lambda st: decide(st, MODERATOR, {"type": "start_session"}, now=1e9)
        )
        await engine.dispose()
        event = await observer.until("event", wait=8)
        assert event["event"]["type"] == "session_started" and event["state"]["status"] == "live"


async def last_seq(settings: Settings, session_id: int) -> int:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine)() as s:
        seq = (await s.execute(select(JurySession.last_seq).where(JurySession.id == session_id))).scalar_one()
    await engine.dispose()
    return int(seq)


@pytest.mark.parametrize(
    ("who", "message", "code"),
    [
        ("juror", {"type": "next_speaker"}, "unauthorised"),
        ("observer", {"type": "vote", "recommendation": 1, "choice": "yes"}, "unauthorised"),
        ("observer", {"type": "raise_hand"}, "unauthorised"),
        ("juror", "{not json", "malformed"),
        ("juror", b"\x00\x01binary", "malformed"),
        ("juror", "[1, 2]", "malformed"),
        ("juror", '{"type": "raise_hand"}', "unsupported_version"),
        ("juror", {"type": "dance"}, "unknown_type"),
        ("juror", {"type": "straw_vote", "poll": "first", "option": 0}, "malformed"),
        ("observer", json.dumps({"v": 1, "type": "raise_hand", "pad": "x" * 20_000}), "too_large"),
    ],
)
async def test_bad_input_gets_an_error_changes_nothing_and_the_socket_stays_open(
    live_server: str, settings: Settings, jury: Jury4, who: str, message: Any, code: str
) -> None:
    cookie = await moderator_cookie(live_server)
    query = f"?token={jury.tokens[jury.jurors[0]]}" if who == "juror" else ""
    async with (
        connect(live_server, jury.session_id, cookie=cookie) as mod,
        connect(live_server, jury.session_id, query) as client,
    ):
        await mod.joined()
        await client.joined()
        await mod.send({"type": "start_session"})
        await client.until("event")
        before = await last_seq(settings, jury.session_id)
        await client.send(message)
        error = await client.until("error")
        assert error["code"] == code and error["message"]
        await client.send({"type": "ping", "ref": 7})
        assert (await client.until("pong"))["ref"] == 7  # still connected
        assert await last_seq(settings, jury.session_id) == before


async def test_a_flood_is_refused_message_by_message_and_the_socket_survives(
    live_server: str, settings: Settings, jury: Jury4
) -> None:
    async with connect(live_server, jury.session_id, f"?token={jury.tokens[jury.jurors[0]]}") as juror:
        await juror.joined()
        before = await last_seq(settings, jury.session_id)
        for n in range(60):
            await juror.send({"type": "raise_hand", "ref": n})  # refused anyway: not started
        replies = [await juror.until("error") for _ in range(60)]
        codes = {r["code"] for r in replies}
        assert codes == {"not_allowed", "too_many"}
        assert sum(r["code"] == "too_many" for r in replies) >= 30
        assert await last_seq(settings, jury.session_id) == before
        await asyncio.sleep(0.5)
        await juror.send({"type": "ping"})
        assert (await juror.until("pong"))["type"] == "pong"


async def test_a_bad_room_link_is_refused_and_closed(live_server: str, jury: Jury4) -> None:
    forged = Tokens(("another-secret-key-0123456789",)).sign(JUROR_ROOM, {"j": jury.jurors[0], "n": "x"})
    stale = Tokens((SECRET,)).sign(JUROR_ROOM, {"j": jury.jurors[0], "n": "an-old-nonce"})
    for token in (forged, stale):
        async with connect(live_server, jury.session_id, f"?token={token}") as client:
            assert (await client.next())["code"] == "unauthorised"
            with pytest.raises(websockets.ConnectionClosed):
                await client.next()


async def test_moderator_changes_are_audited_and_votes_are_not(
    live_server: str, settings: Settings, jury: Jury4, redis: Redis
) -> None:
    cookie = await moderator_cookie(live_server)
    first = jury.jurors[0]
    async with (
        connect(live_server, jury.session_id, cookie=cookie) as mod,
        connect(live_server, jury.session_id, f"?token={jury.tokens[first]}") as juror,
        connect(live_server, jury.session_id) as observer,
    ):
        for client in (mod, juror, observer):
            await client.joined()
        await mod.send({"type": "start_session"})
        await mod.send({"type": "draft_recommendation", "text": "Keep route 7"})
        await mod.until("event")
        rec = (await mod.until("event"))["event"]["id"]
        await mod.send({"type": "open_vote", "recommendation": rec})
        await juror.until("event")
        await juror.until("event")
        await juror.until("event")
        await juror.send({"type": "vote", "recommendation": rec, "choice": "no"})
        mine = await juror.until("event")  # a secret vote: the juror's own event has no choice either
        assert mine["event"]["juror"] == first and "choice" not in mine["event"]
        assert mine["state"]["recommendations"][0]["voted"] is True
        seen = [await observer.until("event") for _ in range(4)][-1]
        assert seen["event"] == {"type": "juror_voted", "at": seen["event"]["at"], "recommendation": rec}
        assert "counts" not in seen["state"]["recommendations"][0]
        moderator_saw = [await mod.until("event") for _ in range(2)][-1]  # vote_opened, juror_voted
        assert moderator_saw["event"]["type"] == "juror_voted"
        assert moderator_saw["state"]["recommendations"][0]["voters"] == 1
        assert "counts" not in moderator_saw["state"]["recommendations"][0]  # not while it is open
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine)() as s:
        entries = list((await s.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())
        actions = [e.action for e in entries if e.target == f"jury_session:{jury.session_id}"]
        assert actions == [
            "jury_session.create",
            "jury_session.session_started",
            "jury_session.recommendation_drafted",
            "jury_session.vote_opened",
        ]
        assert all(e.actor == MODERATOR_EMAIL for e in entries if e.target.startswith("jury_session"))
        assert not any("voted" in json.dumps(e.after) or "vote_cast" in json.dumps(e.after) for e in entries)
        report = await audit.verify(s)
        assert report.broken is None and report.head_matches
        stored = (
            await s.scalars(select(JuryEvent.type).where(JuryEvent.session_id == jury.session_id))
        ).all()
        assert list(stored)[-1] == "juror_voted"
    await engine.dispose()


async def test_concurrent_appends_number_the_log_without_gaps(settings: Settings, jury: Jury4) -> None:
    from polls.domain.jury_commands import decide
    from polls.domain.jury_room import MODERATOR, RoomState

    engines = [open_engine(settings.database_url, ballot_key=settings.ballot_key) for _ in range(2)]
    dbs = [sessions_for(e) for e in engines]

    async def add(n: int) -> None:
        def decider(state: RoomState) -> Any:
            return decide(state, MODERATOR, {"type": "draft_recommendation", "text": f"R{n}"}, now=float(n))

        # Every writer starts from the same stale state, as two instances would.
        await append(dbs[n % 2], jury.session_id, RoomState(), decider, audit_actor=MODERATOR_EMAIL)

    await asyncio.gather(*(add(n) for n in range(16)))
    async with dbs[0]() as s:
        seqs = (await s.scalars(select(JuryEvent.seq).where(JuryEvent.session_id == jury.session_id))).all()
        state = await load_state(s, jury.session_id)
    assert sorted(seqs) == list(range(1, 18))
    assert sorted(r.text for r in state.recommendations) == sorted(f"R{n}" for n in range(16))
    assert len({r.id for r in state.recommendations}) == 16
    for engine in engines:
        await engine.dispose()


# --- pages ---------------------------------------------------------------------------------


async def test_moderator_runs_the_room_from_the_console_without_javascript(
    live_server: str, jury: Jury4
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        await http.post("/api/session", json={"email": MODERATOR_EMAIL, "password": MODERATOR_PASSWORD})
        page = await http.get(f"/council/jury-sessions/{jury.session_id}")
        assert page.status_code == 200 and "Moderator's console" in page.text
        csrf = csrf_from(page.text)
        done = await http.post(
            f"/council/jury-sessions/{jury.session_id}", data={"csrf_token": csrf, "type": "start_session"}
        )
        assert done.status_code == 303
        form = {
            "csrf_token": csrf,
            "type": "open_straw_poll",
            "question": "Cut route 7?",
            "options": "Yes\nNo",
        }
        await http.post(f"/council/jury-sessions/{jury.session_id}", data=form)
        refused = await http.post(
            f"/council/jury-sessions/{jury.session_id}",
            data={"csrf_token": csrf, "type": "close_straw_poll", "poll": "99"},
        )
        assert refused.status_code == 422 and "There is no straw poll 99" in refused.text
        no_csrf = await http.post(f"/council/jury-sessions/{jury.session_id}", data={"type": "end_session"})
        assert no_csrf.status_code == 403
        unconfirmed = await http.post(
            f"/council/jury-sessions/{jury.session_id}", data={"csrf_token": csrf, "type": "end_session"}
        )  # ending cannot be undone: the confirmation page first, and the session goes on
        assert unconfirmed.headers["location"] == f"/council/jury-sessions/{jury.session_id}/end"
        confirm_page = await http.get(unconfirmed.headers["location"])
        assert "End the session?" in confirm_page.text and "This cannot be undone" in confirm_page.text
        assert 'name="confirm" value="yes"' in confirm_page.text
        juror_page = await http.get(f"/juries/{jury.jury_id}/room/{jury.tokens[jury.jurors[1]]}")
        assert "Bo" in juror_page.text and "Cut route 7?" in juror_page.text
        voted = await http.post(
            f"/juries/{jury.jury_id}/room/{jury.tokens[jury.jurors[1]]}",
            data={"type": "straw_vote", "poll": "1", "option": "1"},
        )
        assert voted.status_code == 303
        mine = await http.get(f"/juries/{jury.jury_id}/room/{jury.tokens[jury.jurors[1]]}")
        assert "You chose <strong>No</strong>" in mine.text
        public = await http.get(f"/jury-sessions/{jury.session_id}")
        assert public.status_code == 200 and "1 voted." in public.text and "You chose" not in public.text
        assert "Watching live" in public.text


async def test_console_is_for_moderators_and_bad_links_are_refused(live_server: str, jury: Jury4) -> None:
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        anonymous = await http.get(f"/council/jury-sessions/{jury.session_id}")
        assert anonymous.status_code == 303 and "/sign-in" in anonymous.headers["location"]
        bad = await http.get(f"/juries/{jury.jury_id}/room/jr_forged")
        assert bad.status_code == 403
        missing = await http.get("/jury-sessions/999999")
        assert missing.status_code == 404


async def test_report_page_and_exports_show_votes_as_counts(live_server: str, jury: Jury4) -> None:
    cookie = await moderator_cookie(live_server)
    async with (
        connect(live_server, jury.session_id, cookie=cookie) as mod,
        connect(live_server, jury.session_id, f"?token={jury.tokens[jury.jurors[0]]}") as ann,
        connect(live_server, jury.session_id, f"?token={jury.tokens[jury.jurors[1]]}") as bo,
    ):
        for client in (mod, ann, bo):
            await client.joined()
        for command in (
            {"type": "start_session"},
            {"type": "add_item", "phase": "decision", "title": "Final votes", "minutes": 30},
            {
                "type": "publish_evidence",
                "kind": "witness",
                "title": "Driver",
                "text": "I drive the 42.",
                "witness": "Sam",
            },
            {"type": "draft_recommendation", "text": "Keep route 7"},
        ):
            await mod.send(command)
            await mod.until("ack")
        rec = 3  # ids count up across items, evidence and recommendations
        await mod.send({"type": "open_vote", "recommendation": rec})
        await mod.until("ack")
        for client, choice in ((ann, "yes"), (bo, "no")):
            await client.send({"type": "vote", "recommendation": rec, "choice": choice})
            await client.until("ack")
        await mod.send({"type": "close_vote", "recommendation": rec})
        await mod.until("ack")
        await bo.send({"type": "add_minority_report", "recommendation": rec, "text": "Route 7 is empty."})
        await bo.until("ack")
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        page = await http.get(f"/jury-sessions/{jury.session_id}/report")
        assert page.status_code == 200
        for text in (
            "How should buses change?",
            "Final votes",
            "Driver",
            "Keep route 7",
            "Not passed",
            "Route 7 is empty.",
        ):
            assert text in page.text
        data = (await http.get(f"/jury-sessions/{jury.session_id}/report.json")).json()
        [recommendation] = data["recommendations"]
        assert (
            recommendation["counts"] == {"yes": 1, "no": 1, "abstain": 0}
            and recommendation["passed"] is False
        )
        assert data["profile"] == []  # this jury set no quotas
        csv_file = await http.get(f"/jury-sessions/{jury.session_id}/report.csv")
        assert csv_file.headers["content-type"].startswith("text/csv")
        assert "recommendation,1,Keep route 7,1,1,0,not passed (threshold 75%)" in csv_file.text.splitlines()
        for body in (page.text, json.dumps(data), csv_file.text):
            assert "Ann" not in body and "Bo" not in body  # nobody's vote is named


async def test_a_juror_who_accepted_after_the_session_was_made_joins_its_panel(
    live_server: str, settings: Settings, jury: Jury4
) -> None:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    async with sessions_for(engine).begin() as s:
        member = PoolMember(jury_id=jury.jury_id, person_id="late", position=9, features={})
        s.add(member)
        await s.flush()
        late = Juror(jury_id=jury.jury_id, pool_member_id=member.id, role="reserve", position=9, seat=2)
        late.status, late.room_nonce, late.display_name = "accepted", secrets.token_hex(8), "Eve"
        s.add(late)
        await s.flush()
        token = Tokens((SECRET,)).sign(JUROR_ROOM, {"j": late.id, "n": late.room_nonce})
        late_id = late.id
    await engine.dispose()
    cookie = await moderator_cookie(live_server)
    async with connect(live_server, jury.session_id, cookie=cookie) as mod:
        await mod.joined()  # before Eve connects, so her arrival is an event the moderator sees
        async with connect(live_server, jury.session_id, f"?token={token}") as eve:
            _, snapshot = await eve.joined()
            assert snapshot["state"]["me"] == {"juror": late_id, "name": "Eve", "hand_raised": False}
            added = (await mod.until("event"))["event"]
            assert (added["type"], added["juror"], added["name"]) == ("juror_added", late_id, "Eve")
            await mod.send({"type": "start_session"})
            await eve.until("event")
            await eve.send({"type": "raise_hand"})
            assert (await eve.until("ack"))["type"] == "ack"
            await mod.until("event")  # session_started
            assert (await mod.until("event"))["state"]["queue"] == [{"juror": late_id, "name": "Eve"}]


async def test_a_moderator_can_watch_as_the_public(live_server: str, jury: Jury4) -> None:
    cookie = await moderator_cookie(live_server)
    async with connect(live_server, jury.session_id, "?as=observer", cookie=cookie) as watcher:
        welcome, snapshot = await watcher.joined()
        assert welcome["role"] == "observer" and "jurors" not in snapshot["state"]
        await watcher.send({"type": "start_session"})
        assert (await watcher.until("error"))["code"] == "unauthorised"


async def test_every_part_of_the_room_renders_for_every_audience(live_server: str, jury: Jury4) -> None:
    cookie = await moderator_cookie(live_server)
    ann = jury.tokens[jury.jurors[0]]
    async with (
        connect(live_server, jury.session_id, cookie=cookie) as mod,
        connect(live_server, jury.session_id, f"?token={ann}") as juror,
    ):
        await mod.joined()
        await juror.joined()
        moderator_commands: list[dict[str, Any]] = [
            {"type": "start_session"},
            {"type": "add_item", "phase": "evidence", "title": "Transport officer", "minutes": 10},
            {"type": "open_item", "item": 1},
            {"type": "start_timer", "item": 1},
            {
                "type": "publish_evidence",
                "kind": "document",
                "title": "Usage",
                "url": "https://example.org/u.pdf",
            },
            {
                "type": "publish_evidence",
                "kind": "witness",
                "title": "Driver",
                "text": "Busy at 8.",
                "witness": "Sam",
            },
            {"type": "open_straw_poll", "question": "Cut route 7?", "options": ["Yes", "No"]},
            {"type": "draft_recommendation", "text": "Keep route 7"},
            {
                "type": "amend_recommendation",
                "recommendation": 5,
                "text": "Keep route 7 on weekdays",
                "note": "Quiet",
            },
            {"type": "draft_recommendation", "text": "Free fares"},
            {"type": "open_vote", "recommendation": 5},
        ]
        for command in moderator_commands:
            await mod.send(command)
            reply = await mod.until("ack")
            assert reply["ids"], command
        for command in (
            {"type": "raise_hand"},
            {"type": "straw_vote", "poll": 4, "option": 1},
            {"type": "vote", "recommendation": 5, "choice": "yes"},
        ):
            await juror.send(command)
            await juror.until("ack")
        for command in (
            {"type": "next_speaker"},
            {"type": "close_straw_poll", "poll": 4},
            {"type": "show_straw_poll", "poll": 4},
            {"type": "close_vote", "recommendation": 5},
            {"type": "add_minority_report", "recommendation": 5, "text": "Weekends matter too."},
        ):
            await mod.send(command)
            await mod.until("ack")
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        public = await http.get(f"/jury-sessions/{jury.session_id}")
        mine = await http.get(f"/juries/{jury.jury_id}/room/{ann}")
        await http.post("/api/session", json={"email": MODERATOR_EMAIL, "password": MODERATOR_PASSWORD})
        console = await http.get(f"/council/jury-sessions/{jury.session_id}")
        sessions = await http.get(f"/council/juries/{jury.jury_id}/sessions")
        for page in (public, mine, console, sessions):
            assert page.status_code == 200
        for page in (public, mine, console):
            for text in (
                "Transport officer",
                "Driver",
                "Cut route 7?",
                "Keep route 7 on weekdays",
                "Weekends matter",
            ):
                assert text in page.text
            assert "Speaking now: <strong>Ann</strong>" in page.text and "Passed" in page.text
        assert "Time spoken" in console.text and "Time spoken" not in public.text
        assert (
            "Your vote: " not in mine.text and "Raise my hand" not in mine.text
        )  # the vote closed; her hand came down when called, and she has the floor
        assert "You are speaking now" in mine.text
        created = await http.post(
            f"/council/juries/{jury.jury_id}/sessions",
            data={"csrf_token": csrf_from(sessions.text), "title": "Day 2"},
        )
        assert created.status_code == 303 and created.headers["location"].startswith(
            "/council/jury-sessions/"
        )
        empty = await http.post(
            f"/council/juries/{jury.jury_id}/sessions",
            data={"csrf_token": csrf_from(sessions.text), "title": " "},
        )
        assert empty.status_code == 422 and "Enter a title" in empty.text


async def test_the_demo_has_a_session_ready_to_run_and_its_links_work(
    live_server: str, settings: Settings
) -> None:
    from polls import demo
    from polls.demo.jury import demo_room_links

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    db = sessions_for(engine)
    async with db.begin() as s:
        info = await demo.seed(s)
    async with db.begin() as s:
        again = await demo.seed(s)  # a second start adds nothing
        links = await demo_room_links(s, Tokens(settings.secret_keys), f"http://{live_server}", info.jury_id)
    async with db() as s:
        state = await load_state(s, info.jury_session_id)
        sessions = (await s.scalars(select(JurySession).where(JurySession.jury_id == info.jury_id))).all()
    await engine.dispose()
    assert again.jury_session_id == info.jury_session_id and len(sessions) == 1
    assert state.status == "waiting" and len(state.items) == 5 and len(state.evidence) == 1
    assert len(state.recommendations) == 1 and len(state.jurors) == len(links) >= 2
    async with httpx.AsyncClient() as http:
        juror = await http.get(links[0][1])
        assert (
            juror.status_code == 200
            and links[0][0] in juror.text
            and "Welcome and ground rules" in juror.text
        )
        public = await http.get(f"http://{live_server}/jury-sessions/{info.jury_session_id}")
        assert public.status_code == 200 and "Demo Borough emissions" in public.text
        await http.post(
            f"http://{live_server}/api/session",
            json={"email": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD},
        )
        console = await http.get(f"http://{live_server}/council/jury-sessions/{info.jury_session_id}")
        assert console.status_code == 200 and "Start the session" in console.text


async def test_a_page_on_another_site_cannot_use_the_moderators_cookie(live_server: str, jury: Jury4) -> None:
    cookie = await moderator_cookie(live_server)
    url = f"ws://{live_server}/live/jury-sessions/{jury.session_id}"
    headers = {"Cookie": cookie, "Origin": "https://evil.example"}
    async with websockets.connect(url, additional_headers=headers) as socket:
        welcome = json.loads(await asyncio.wait_for(socket.recv(), 3))
        assert welcome["role"] == "observer"
    headers["Origin"] = f"http://{live_server}"
    async with websockets.connect(url, additional_headers=headers) as socket:
        assert json.loads(await asyncio.wait_for(socket.recv(), 3))["role"] == "moderator"
