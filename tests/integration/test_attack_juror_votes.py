"""Who voted how in a jury's recommendation vote: the attacker reads everything stored and
everything the moderator's and the public's sockets received, and tries to tie a juror to their
choice. A secret vote (the default) must give them only who voted and the tally; an open vote,
chosen before it started and shown to jurors as such, names everyone with their vote.

Before the fix every vote was an event ``{"juror": id, "choice": ...}`` kept in the log for ever."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import Base
from tests.e2e.test_jury_room_e2e import NAMES, Client, Jury4, connect, make_jury, moderator_cookie

pytestmark = pytest.mark.asyncio

CHOICES = ("yes", "no", "abstain")
SECRET_VOTES = ["yes", "no", "yes", "abstain"]  # Ann, Bo, Cy, Di


async def every_row(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as the database holds it now."""
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    out: dict[str, list[dict[str, Any]]] = {}
    async with sessions_for(engine)() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).mappings().all()
            out[table.name] = [dict(r) for r in rows]
    await engine.dispose()
    return out


async def every_redis_value(redis: Redis) -> str:
    values = []
    async for key in redis.scan_iter(count=1000):
        kind = await redis.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        value: Any = {
            "string": redis.get,
            "hash": redis.hgetall,
            "list": lambda k: redis.lrange(k, 0, -1),
            "set": redis.smembers,
            "zset": lambda k: redis.zrange(k, 0, -1, withscores=True),
            "stream": lambda k: redis.xrange(k),
        }.get(kind, lambda k: redis.type(k))
        values.append(f"{key!r} {await value(key)!r}")
    return "\n".join(values)


def names_a_choice(thing: Any) -> bool:
    """Whether a JSON-like value anywhere holds a juror together with a recommendation choice."""
    if isinstance(thing, dict):
        if "juror" in thing and thing.get("choice") in CHOICES:
            return True
        if "my_vote" in thing and thing["my_vote"] is not None:
            return True
        if thing.get("named_votes"):
            return True
        return any(names_a_choice(v) for v in thing.values())
    if isinstance(thing, list | tuple):
        return any(names_a_choice(v) for v in thing)
    if isinstance(thing, str) and thing[:1] in "[{":
        try:
            return names_a_choice(json.loads(thing))
        except ValueError:
            return False
    return False


def ballot_rows(rows: dict[str, list[dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Rows outside the event log holding a single choice as a column value (per-ballot rows)."""
    return [
        (table, row)
        for table, found in rows.items()
        if table != "jury_events"
        for row in found
        if any(value in CHOICES for value in row.values())
    ]


async def drain(client: Client, into: list[dict[str, Any]], wait: float = 0.3) -> None:
    try:
        while True:
            into.append(await client.next(wait))
    except TimeoutError:
        return


async def test_nobody_can_tell_how_a_juror_voted_in_a_secret_vote(
    live_server: str, settings: Settings, redis: Redis
) -> None:
    jury: Jury4 = await make_jury(settings)
    cookie = await moderator_cookie(live_server)
    mod_saw: list[dict[str, Any]] = []
    public_saw: list[dict[str, Any]] = []
    async with (
        connect(live_server, jury.session_id, cookie=cookie) as mod,
        connect(live_server, jury.session_id) as observer,
    ):
        for client, into in ((mod, mod_saw), (observer, public_saw)):
            into.extend(await client.joined())
        for command in ({"type": "start_session"}, {"type": "draft_recommendation", "text": "Keep route 7"}):
            await mod.send(command)
            mod_saw.append(await mod.until("ack"))
        await mod.send({"type": "open_vote", "recommendation": 1})  # secret unless chosen otherwise
        mod_saw.append(await mod.until("ack"))
        for juror, choice in zip(jury.jurors, SECRET_VOTES, strict=True):
            async with connect(live_server, jury.session_id, f"?token={jury.tokens[juror]}") as me:
                _, snapshot = await me.joined()
                [rec] = snapshot["state"]["recommendations"]
                assert rec["ballot"] == "secret"  # the juror sees the kind of vote before voting
                await me.send({"type": "vote", "recommendation": 1, "choice": choice})
                await me.until("ack")
        mid_vote = await every_row(settings)
        await mod.send({"type": "close_vote", "recommendation": 1})
        mod_saw.append(await mod.until("ack"))
        await drain(mod, mod_saw)
        await drain(observer, public_saw)
    after = await every_row(settings)
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        reports = [
            (await http.get(f"/jury-sessions/{jury.session_id}/report.json")).json(),
            (await http.get(f"/jury-sessions/{jury.session_id}/report.csv")).text,
            (await http.get(f"/jury-sessions/{jury.session_id}/report")).text,
        ]
    # The tally is there for everyone...
    closed = [m for m in mod_saw + public_saw if m.get("event", {}).get("type") == "vote_closed"]
    assert closed and all(
        m["state"]["recommendations"][0]["counts"] == {"yes": 2, "no": 1, "abstain": 1} for m in closed
    )
    assert reports[0]["recommendations"][0]["counts"] == {"yes": 2, "no": 1, "abstain": 1}
    # ... and nothing anywhere ties a juror to a choice.
    for what, seen in (
        ("the moderator's socket", mod_saw),
        ("the public socket", public_saw),
        ("the database during the vote", mid_vote),
        ("the database after the vote", after),
        ("the reports", reports[0]),
    ):
        assert not names_a_choice(seen), f"{what} ties a juror to their vote"
    events = [row["payload"] for row in after["jury_events"] if row["session_id"] == jury.session_id]
    voted = [e for e in events if "juror" in e and e.get("recommendation") == 1]
    assert sorted(e["juror"] for e in voted) == sorted(jury.jurors)  # who voted is recorded
    assert not any(set(e) & {"choice", "option"} for e in voted)
    # No single ballot is kept anywhere outside the log (no row per vote, no time, no order).
    assert ballot_rows(mid_vote) == [] and ballot_rows(after) == []
    for body in reports[1:]:  # as words: "Cy" is a juror here, and "Cymraeg" in every page's language switch
        assert not any(re.search(rf"\b{name}\b", body) for name in NAMES)
    redis_text = await every_redis_value(redis)
    assert not any(str(juror) in redis_text and "choice" in redis_text for juror in jury.jurors)


async def test_an_open_vote_chosen_beforehand_names_every_juror_with_their_vote(
    live_server: str, settings: Settings
) -> None:
    jury: Jury4 = await make_jury(settings)
    cookie = await moderator_cookie(live_server)
    async with connect(live_server, jury.session_id, cookie=cookie) as mod:
        await mod.joined()
        for command in (
            {"type": "start_session"},
            {"type": "draft_recommendation", "text": "Buses every ten minutes"},
            {"type": "open_vote", "recommendation": 1, "ballot": "named"},
        ):
            await mod.send(command)
            await mod.until("ack")
        for juror, choice in zip(jury.jurors, ["yes", "yes", "no", "yes"], strict=True):
            async with connect(live_server, jury.session_id, f"?token={jury.tokens[juror]}") as me:
                _, snapshot = await me.joined()
                assert snapshot["state"]["recommendations"][0]["ballot"] == "named"
                await me.send({"type": "vote", "recommendation": 1, "choice": choice})
                await me.until("ack")
        await mod.send({"type": "close_vote", "recommendation": 1})
        await mod.until("ack")
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as http:
        data = (await http.get(f"/jury-sessions/{jury.session_id}/report.json")).json()
        page = (await http.get(f"/jury-sessions/{jury.session_id}/report")).text
    [rec] = data["recommendations"]
    assert rec["ballot"] == "named" and rec["counts"] == {"yes": 3, "no": 1, "abstain": 0}
    assert rec["named_votes"] == [
        {"name": name, "choice": choice}
        for name, choice in zip(NAMES, ["yes", "yes", "no", "yes"], strict=True)
    ]
    assert "Open vote" in page and all(name in page for name in NAMES)
