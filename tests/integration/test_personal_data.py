"""Jury pools' personal data: one person's exported on request, the pool's erased once the jury
has reported and the pilot's retention period has passed; both audited."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.cli import main
from polls.settings import Settings
from polls.store import audit
from polls.store.db import open_engine, sessions_for
from polls.store.models import AuditEntry, Juror, Jury, JuryReport, PoolMember, utcnow
from tests.e2e.test_jury_room_e2e import Jury4, make_jury

AGE = {"age": "30-44"}


async def _polls(settings: Settings, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    env = {"DATABASE_URL": settings.database_url, "BALLOT_KEY": settings.ballot_key}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code = await asyncio.to_thread(main, list(args))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, capsys.readouterr().out


async def _reported(settings: Settings, days_ago: int) -> Jury4:
    """A jury whose pool has features, reported ``days_ago`` days ago."""
    jury = await make_jury(settings)
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            for member in await session.scalars(select(PoolMember).where(PoolMember.jury_id == jury.jury_id)):
                member.features = dict(AGE)
            (await session.get_one(Jury, jury.jury_id)).status = "reported"
            session.add(
                JuryReport(
                    jury_id=jury.jury_id, published_at=utcnow() - timedelta(days=days_ago), published_by="t"
                )
            )
    finally:
        await engine.dispose()
    return jury


async def _actions(db: AsyncSession) -> list[str]:
    db.expire_all()
    return list((await db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all())


async def test_one_persons_data_is_exported_on_request_and_the_export_audited(
    settings: Settings, db: AsyncSession, capsys: pytest.CaptureFixture[str]
) -> None:
    jury = await _reported(settings, days_ago=1)
    code, out = await _polls(
        settings, capsys, "personal-data", "export", "--jury", str(jury.jury_id), "--person", "p1"
    )
    assert code == 0
    held = json.loads(out)
    assert held["person_id"] == "p1" and held["features"] == AGE
    assert held["drawn"]["status"] == "accepted" and held["drawn"]["display_name"] == "Ann"
    assert (await _actions(db))[-1] == "jury.pool.export_person"
    code, _ = await _polls(
        settings, capsys, "personal-data", "export", "--jury", str(jury.jury_id), "--person", "nobody"
    )
    assert code == 1


async def test_a_pool_is_erased_once_its_pilots_retention_period_after_the_report_has_passed(
    settings: Settings, db: AsyncSession, capsys: pytest.CaptureFixture[str]
) -> None:
    due = await _reported(settings, days_ago=91)  # the default: 90 days
    code, out = await _polls(settings, capsys, "retention", "run")
    assert code == 0 and f"jury {due.jury_id}: personal data of 4 people erased" in out
    db.expire_all()
    members = (await db.scalars(select(PoolMember).where(PoolMember.jury_id == due.jury_id))).all()
    assert len(members) == 4  # the pool's size stays
    assert all(
        m.features == {} and m.household is None and m.person_id.startswith("erased-") for m in members
    )
    jurors = (await db.scalars(select(Juror).where(Juror.jury_id == due.jury_id))).all()
    assert all(j.display_name is None for j in jurors)
    assert (await _actions(db))[-1] == "jury.pool.erase"
    assert (await audit.verify(db)).broken is None
    assert (await _polls(settings, capsys, "retention", "run"))[1].endswith("0 pools erased\n")  # once


async def test_a_pilot_sets_how_long_it_keeps_pools_after_the_report(
    settings: Settings, db: AsyncSession, capsys: pytest.CaptureFixture[str]
) -> None:
    recent = await _reported(settings, days_ago=10)
    assert (await _polls(settings, capsys, "retention", "run"))[1].endswith("0 pools erased\n")
    code, _ = await _polls(
        settings, capsys, "retention", "set", "--pilot", str(recent.pilot_id), "--days", "7"
    )
    assert code == 0
    assert "personal data of 4 people erased" in (await _polls(settings, capsys, "retention", "run"))[1]
    assert "pilot.personal_data_days" in await _actions(db)
    assert (
        await _polls(settings, capsys, "retention", "set", "--pilot", str(recent.pilot_id), "--days", "0")
    )[0] == 1
