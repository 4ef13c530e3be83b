"""Adversary: someone holding a copy of the database or of a backup (not the settings), looking
for the protected characteristics of the people in a jury's recruitment pool.

The attack: read the pool's rows straight from the database file, as a copy would hold them, and
look for each person's features."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import PoolMember
from tests.e2e.test_jury_room_e2e import make_jury

FEATURES = {"ethnicity": "Gypsy or Irish Traveller", "disability": "Deaf", "age": "70-79"}


async def test_a_database_copy_does_not_show_who_has_which_protected_characteristic(
    settings: Settings, db: AsyncSession
) -> None:
    jury = await make_jury(settings)
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            for member in (await session.scalars(select(PoolMember))).all():
                member.features = dict(FEATURES)
    finally:
        await engine.dispose()

    raw = (await db.execute(text("SELECT features FROM jury_pool_members"))).scalars().all()
    assert len(raw) == len(jury.jurors)
    stored = " ".join(str(r) for r in raw)
    for value in FEATURES.values():
        assert value not in stored
    assert "ethnicity" not in stored  # not even which categories a pool was drawn on
    # The service, holding the key, reads them back.
    read = (await db.scalars(select(PoolMember))).all()
    assert all(member.features == FEATURES for member in read)
