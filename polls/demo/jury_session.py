"""The demo jury's first session, prepared and ready for the moderator to start."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.jury_commands import decide
from polls.domain.jury_room import MODERATOR, Event, RoomState
from polls.store.jury_sessions import append_in, create_session, load_state
from polls.store.models import JurySession
from polls.store.staff import find_by_email

DEMO_SESSION = "Day 1: hearing the evidence"
PREPARATION: list[dict[str, Any]] = [
    {"type": "add_item", "phase": "welcome", "title": "Welcome and ground rules", "minutes": 10},
    {"type": "add_item", "phase": "evidence", "title": "The council's climate officer", "minutes": 20},
    {"type": "add_item", "phase": "evidence", "title": "Questions to the witnesses", "minutes": 15},
    {"type": "add_item", "phase": "deliberation", "title": "Small-group discussion", "minutes": 30},
    {"type": "add_item", "phase": "decision", "title": "Votes on recommendations", "minutes": 20},
    {
        "type": "publish_evidence",
        "kind": "document",
        "title": "Demo Borough emissions, 2019 to 2025",
        "text": "Transport is 41% of the borough's emissions, homes 33%, business 26%.",
    },
    {
        "type": "draft_recommendation",
        "text": "Every home in the borough should be offered a free energy survey by 2028.",
    },
]


def _as_moderator(command: dict[str, Any]) -> Callable[[RoomState], list[Event]]:
    return lambda current: decide(current, MODERATOR, command, now=time.time())


async def seed_demo_session(session: AsyncSession, officer_email: str, jury_id: int) -> int:
    """Add the session once (later runs find it); its id. The demo officer is a site admin."""
    found = await session.execute(
        select(JurySession.id).where(JurySession.jury_id == jury_id, JurySession.title == DEMO_SESSION)
    )
    existing = found.scalar_one_or_none()
    if existing is not None:
        return existing
    staff = await find_by_email(session, officer_email)
    assert staff is not None
    officer = Actor(staff_id=staff.id, email=staff.email, name=staff.name, is_site_admin=True)
    row = await create_session(session, officer, jury_id, DEMO_SESSION)
    state: RoomState = await load_state(session, row.id)
    for command in PREPARATION:
        await append_in(
            session,
            row.id,
            state,
            _as_moderator(command),
            audit_actor=officer.email,
        )
    return row.id
