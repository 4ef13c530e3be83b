"""Scheduled polls open and close by themselves, once, even with several instances racing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls import scheduler
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import AuditEntry, Poll, utcnow
from tests.factories import later, make_pilot, make_poll


async def test_due_polls_open_then_close_and_the_scheduler_is_audited(
    officer: httpx.AsyncClient, settings: Settings, db: AsyncSession
) -> None:
    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"], opens_at=later(1), closes_at=later(2))
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/schedule")).status_code == 200
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    sessions = sessions_for(engine)
    try:
        assert await scheduler.run_due(sessions, utcnow()) == []
        assert await scheduler.run_due(sessions, utcnow() + timedelta(hours=1, minutes=1)) == [
            (poll["id"], "open")
        ]
        closed: list[int] = []

        async def publish_the_rest(poll_id: int) -> None:  # the live tallies' finish
            closed.append(poll_id)

        later_on = utcnow() + timedelta(hours=2, minutes=1)
        assert await scheduler.run_due(sessions, later_on, on_closed=publish_the_rest) == [
            (poll["id"], "close")
        ]
        assert closed == [poll["id"]]
    finally:
        await engine.dispose()
    status = (await db.execute(select(Poll.status).where(Poll.id == poll["id"]))).scalar_one()
    assert status == "closed"
    actors = (
        await db.execute(select(AuditEntry.actor).where(AuditEntry.action.in_(["poll.open", "poll.close"])))
    ).all()
    assert [a for (a,) in actors] == ["system:scheduler", "system:scheduler"]


async def test_two_instances_racing_open_a_poll_exactly_once(
    officer: httpx.AsyncClient, settings: Settings, db: AsyncSession
) -> None:
    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"], opens_at=later(1), closes_at=later(2))
    await officer.post(f"/api/polls/{poll['id']}/actions/schedule")
    engines = [open_engine(settings.database_url, ballot_key=settings.ballot_key) for _ in range(4)]
    when = utcnow() + timedelta(hours=1, minutes=1)
    try:
        results = await asyncio.gather(*(scheduler.run_due(sessions_for(e), when) for e in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(len(r) for r in results) == 1
    opened = (await db.execute(select(AuditEntry).where(AuditEntry.action == "poll.open"))).scalars().all()
    assert len(opened) == 1


async def test_running_app_opens_a_scheduled_poll_by_itself(
    officer: httpx.AsyncClient, settings: Settings
) -> None:
    from polls.app import create_app

    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"], opens_at=later(1 / 3600), closes_at=later(1))
    await officer.post(f"/api/polls/{poll['id']}/actions/schedule")
    app = create_app(settings, run_scheduler=True)
    async with app.router.lifespan_context(app):
        for _ in range(50):
            await asyncio.sleep(0.1)
            got = (await officer.get(f"/api/polls/{poll['id']}")).json()["status"]
            if got == "open":
                break
    assert got == "open"
