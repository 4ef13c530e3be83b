"""Migration 0012 on data: recommendation votes logged with their jurors' choices become secret
votes (who voted, and the tally at the close), and published juries not yet drawn go back to be
published again naming their source of public randomness."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import insert, select, update

from polls.domain.jury_room import replay
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.jury_sessions import load_state
from polls.store.migrate import alembic_config, upgrade
from polls.store.models import Jury, JuryEvent, JurySecretTally
from tests.conftest import in_thread
from tests.e2e.test_jury_room_e2e import make_jury


def old_log(jurors: list[int]) -> list[tuple[str, dict[str, Any]]]:
    """Version 1 events after session_created: one vote closed, one still open."""
    ann, bo, cy, _ = jurors
    return [
        ("session_started", {}),
        ("recommendation_drafted", {"id": 1, "text": "Keep route 7"}),
        ("recommendation_drafted", {"id": 2, "text": "Free fares"}),
        ("vote_opened", {"recommendation": 1}),
        ("vote_cast", {"recommendation": 1, "juror": ann, "choice": "no"}),
        ("vote_cast", {"recommendation": 1, "juror": ann, "choice": "yes"}),  # changed
        ("vote_cast", {"recommendation": 1, "juror": bo, "choice": "no"}),
        ("vote_closed", {"recommendation": 1}),
        ("vote_opened", {"recommendation": 2}),
        ("vote_cast", {"recommendation": 2, "juror": cy, "choice": "abstain"}),
    ]


async def test_old_votes_lose_their_choices_and_keep_their_tallies(settings: Settings) -> None:
    made = await make_jury(settings)
    url = settings.database_url
    in_thread(lambda: command.downgrade(alembic_config(url), "0011"))
    engine = open_engine(url, ballot_key=settings.ballot_key)
    db = sessions_for(engine)
    try:
        async with db.begin() as s:
            rows = [
                {"session_id": made.session_id, "seq": seq, "type": t, "payload": d, "at": 1.0 + seq}
                for seq, (t, d) in enumerate(old_log(made.jurors), start=2)
            ]
            await s.execute(insert(JuryEvent.__table__), rows)
            juries = Jury.__table__
            await s.execute(update(juries).where(juries.c.id == made.jury_id).values(status="published"))
        await engine.dispose()
        in_thread(lambda: upgrade(url))
        engine = open_engine(url, ballot_key=settings.ballot_key)
        db = sessions_for(engine)
        async with db() as s:
            events = list((await s.scalars(select(JuryEvent).order_by(JuryEvent.seq))).all())
            assert not any("choice" in e.payload for e in events)
            assert [e.type for e in events].count("juror_voted") == 4
            closed = next(e for e in events if e.type == "vote_closed")
            assert closed.payload["counts"] == {"yes": 1, "no": 1, "abstain": 0}
            [tally] = (await s.scalars(select(JurySecretTally))).all()
            assert (tally.recommendation, tally.yes, tally.no, tally.abstain) == (2, 0, 0, 1)
            state = await load_state(s, made.session_id)
            assert replay([], state).recommendation(1).counts() == {"yes": 1, "no": 1, "abstain": 0}
            assert state.recommendation(2).voters == {made.jurors[2]}
            jury = await s.get(Jury, made.jury_id)
            assert jury is not None and jury.randomness_source is None
            assert (jury.status, jury.published_at) == ("computed", None)  # to be published again
    finally:
        await engine.dispose()
