"""The demo pilot's jury: drawn, invited, mostly accepted, in session; seeded once, quickly."""

from __future__ import annotations

import time

import httpx
from markupsafe import escape
from sqlalchemy import func, select

from polls import demo
from polls.demo.jury import ACCEPTING, DEMO_JURY, NAMES, PANEL, demo_room_links, seed_demo_jury
from polls.domain.sortition import read_draw, read_lottery, verify
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import Juror, Jury, PoolMember
from polls.tokens import JUROR_ROOM, Tokens


async def test_the_demo_jury_is_ready_for_a_session_and_seeded_once(settings: Settings) -> None:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    sessions = sessions_for(engine)
    try:
        async with sessions.begin() as session:
            info = await demo.seed(session)
        started = time.monotonic()
        async with sessions.begin() as session:
            again = await seed_demo_jury(session, info.pilot_id, demo.DEMO_EMAIL)
            await demo.seed(session)
        assert time.monotonic() - started < 1
        async with sessions() as session:
            jury = (await session.scalars(select(Jury).where(Jury.title == DEMO_JURY))).one()
            assert jury.id == again and jury.status == "in_session" and jury.households_apart
            assert await session.scalar(select(func.count()).select_from(PoolMember)) == 200
            jurors = list((await session.scalars(select(Juror).where(Juror.jury_id == jury.id))).all())
            accepted = sorted((j.seat, j.display_name) for j in jurors if j.status == "accepted")
            assert [name for _, name in accepted] == NAMES[:ACCEPTING]
            assert [j.status for j in jurors if j.role == "panel"].count("declined") == 1
            assert sum(1 for j in jurors if j.status == "invited" and j.role == "reserve") == 1
            assert sum(1 for j in jurors if j.role == "panel") == PANEL
            # The published lottery, seed and committed dice give the drawn panel.
            lottery, record = read_lottery(jury.lottery), read_draw(jury.draw)
            assert verify(lottery, jury.seed or "", record, source=jury.randomness_source) == []
            assert len(record.reserves) == 8 and record.randomness is not None
            tokens = Tokens(settings.secret_keys)
            links = await demo_room_links(session, tokens, "http://x", jury.id)
            assert [name for name, _ in links] == NAMES[:ACCEPTING]
            payload = tokens.read(JUROR_ROOM, links[0][1].rsplit("/", 1)[1])
            assert payload["j"] in {j.id for j in jurors if j.status == "accepted"}
    finally:
        await engine.dispose()


async def test_seeding_the_demo_jury_is_quick(settings: Settings) -> None:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    sessions = sessions_for(engine)
    try:
        async with sessions.begin() as session:
            info = await demo.seed(session)
            await session.execute(Jury.__table__.delete())
        started = time.monotonic()
        async with sessions.begin() as session:
            await seed_demo_jury(session, info.pilot_id, demo.DEMO_EMAIL)
        assert time.monotonic() - started < 5
    finally:
        await engine.dispose()


async def test_the_public_pilot_page_lists_its_published_juries(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            info = await demo.seed(session)
            jury = (await session.scalars(select(Jury).where(Jury.title == DEMO_JURY))).one()
            remit = jury.remit
            session.add(
                Jury(
                    pilot_id=info.pilot_id,
                    title="Unpublished jury",
                    remit="Not yet",
                    kind="jury",
                    size=12,
                    threshold=75,
                )
            )
    finally:
        await engine.dispose()
    page = (await client.get(f"/pilots/{info.pilot_id}")).text
    assert f'href="/juries/{jury.id}"' in page and escape(DEMO_JURY) in page and escape(remit) in page
    assert "Unpublished jury" not in page  # only juries whose lottery is public are listed
