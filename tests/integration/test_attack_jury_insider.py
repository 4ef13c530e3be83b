"""Adversary 6, the insider choosing the jury: an officer who knows the draw's secret seed (it is
in the database from the moment the lottery is computed) tries public-randomness strings offline
until the panel suits them, then draws with the string that works.

Before the fix the draw took whatever string the officer typed, and this attack seated the
insider's choice. Now the source of public randomness is fixed when the lottery is published
(here: two named people's dice rolls, committed as SHA-256 hashes), and the draw accepts only
what hashes to those commitments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.sortition import draw, read_lottery
from polls.store.models import AuditEntry, Juror, Jury, utcnow
from tests.conftest import count
from tests.integration.test_jury_selection import DICE, computed_jury, publish_body

pytestmark = pytest.mark.asyncio


def steer(lottery_json: dict[str, Any], seed: str, wanted: str, tries: int = 2000) -> list[str]:
    """The first dice "reveals" (of the insider's many tries) whose draw seats ``wanted``."""
    lottery = read_lottery(lottery_json)
    for n in range(tries):
        candidate = [f"{n} 1 1 1 1 1", "2 2 2 2 2 2"]
        if wanted in draw(lottery, seed, public_randomness="\n".join(candidate)).panel:
            return candidate
    raise AssertionError("no string seated the wanted person")


async def _insider_view(db: AsyncSession, jury_id: int) -> tuple[str, dict[str, Any], str]:
    """The seed and lottery as the database holds them, and a person the honest draw leaves out."""
    row = await db.get(Jury, jury_id)
    assert row is not None and row.seed is not None and row.lottery is not None
    seed, lottery_json = row.seed, row.lottery
    await db.rollback()
    honest = draw(read_lottery(lottery_json), seed, public_randomness="\n".join(DICE))
    wanted = next(p for p in sorted(read_lottery(lottery_json).probabilities()) if p not in honest.panel)
    return seed, lottery_json, wanted


async def test_insider_cannot_steer_the_panel_with_chosen_public_randomness(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    jury = await computed_jury(officer)
    seed, lottery_json, wanted = await _insider_view(db, jury["id"])
    published = await officer.post(f"/api/juries/{jury['id']}/publish", json=publish_body())
    assert published.status_code == 200, published.text
    chosen = steer(lottery_json, seed, wanted)
    audited = await count(db, AuditEntry)
    for attempt in (chosen, ["\n".join(chosen)], [chosen[0]]):
        refused = await officer.post(
            f"/api/juries/{jury['id']}/draw", json={"reserves": 4, "reveals": attempt}
        )
        assert refused.status_code == 422, "the insider steered the draw"
        assert refused.json()["code"] == "randomness_mismatch"
    # Nothing was written: no draw, no juror, no audit entry.
    row = (await db.scalars(select(Jury).where(Jury.id == jury["id"]))).one()
    assert row.draw is None and row.status == "published"
    await db.rollback()
    assert await count(db, Juror) == 0 and await count(db, AuditEntry) == audited
    # The committed rolls draw, and the record names the source as published.
    honest = await officer.post(f"/api/juries/{jury['id']}/draw", json={"reserves": 4, "reveals": DICE})
    assert honest.status_code == 200
    record = honest.json()["draw"]
    assert record["randomness"] == {"source": publish_body()["randomness"], "reveals": DICE}
    assert wanted not in record["panel"]


async def test_a_named_lottery_draw_must_be_after_publication_and_before_the_draw(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    """A lottery source cannot be checked by hash, but it can be one nobody knows yet: a draw
    dated after publication, and the panel is drawn only once its numbers exist."""
    jury = await computed_jury(officer)
    today = utcnow().date()
    for day in (today - timedelta(days=3), today):
        source = {"kind": "lottery", "name": "National Lottery Lotto", "date": day.isoformat()}
        past = await officer.post(f"/api/juries/{jury['id']}/publish", json={"randomness": source})
        assert (past.status_code, past.json()["code"]) == (422, "randomness_not_future")
    future = {
        "kind": "lottery",
        "name": "National Lottery Lotto",
        "date": (today + timedelta(days=4)).isoformat(),
    }
    assert (
        await officer.post(f"/api/juries/{jury['id']}/publish", json={"randomness": future})
    ).status_code == 200
    early = await officer.post(
        f"/api/juries/{jury['id']}/draw", json={"reserves": 2, "reveals": ["3 9 17 22 31 44"]}
    )
    assert (early.status_code, early.json()["code"]) == (422, "randomness_mismatch")
    assert "is not drawn until" in early.json()["message"]
    assert await count(db, Juror) == 0
