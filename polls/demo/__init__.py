"""The demo pilot `polls dev` seeds, so a newcomer has something real to look at."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.demo.jury import seed_demo_jury
from polls.demo.jury_session import seed_demo_session
from polls.demo.officer_key import demo_officer_key
from polls.demo.pilot import DEMO_PILOT, create_demo_pilot
from polls.demo.story import seed_published_story
from polls.domain.access import Actor
from polls.domain.polls import PollStatus
from polls.store.codes import issue_codes
from polls.store.models import Area, Pilot, Poll
from polls.store.staff import create_staff, find_by_email

DEMO_EMAIL = "officer@demo-borough.example"
DEMO_PASSWORD = "demo-borough-officer"  # development only: printed by `make run`


@dataclass(frozen=True)
class DemoInfo:
    pilot_id: int
    email: str
    password: str
    created: bool
    poll_id: int = 0  # the open demo poll
    codes: tuple[tuple[str, str], ...] = ()  # (reference, short code) fresh for this run
    jury_id: int = 0  # the demo jury
    jury_session_id: int = 0  # its session, ready to run
    officer_key_file: Path | None = None  # DEMO ONLY: the returning officer's private key


DEMO_CODES = 5


async def seed(session: AsyncSession) -> DemoInfo:
    """Create the demo pilot once; later runs find it and change nothing (but add what was added
    to the demo since: the published story, the jury and its session)."""
    existing = (await session.execute(select(Pilot).where(Pilot.name == DEMO_PILOT))).scalar_one_or_none()
    if existing is None:
        pilot_id = await create_demo_pilot(session, await _new_officer(session))
    else:
        pilot_id = existing.id
    await seed_published_story(session, await _officer(session), pilot_id)
    jury_id = await seed_demo_jury(session, pilot_id, DEMO_EMAIL)
    room = await seed_demo_session(session, DEMO_EMAIL, jury_id)
    return DemoInfo(
        pilot_id, DEMO_EMAIL, DEMO_PASSWORD, created=existing is None, jury_id=jury_id, jury_session_id=room
    )


async def _new_officer(session: AsyncSession) -> Actor:
    """The demo's council officer, a site admin, made with the demo pilot unless already there."""
    staff = await find_by_email(session, DEMO_EMAIL)
    if staff is None:
        staff = await create_staff(
            session,
            email=DEMO_EMAIL,
            name="Demo Officer",
            password=DEMO_PASSWORD,
            site_admin=True,
            actor="system:demo-seed",
        )
    return Actor(staff_id=staff.id, email=staff.email, name=staff.name, is_site_admin=True)


async def _officer(session: AsyncSession) -> Actor:
    staff = await find_by_email(session, DEMO_EMAIL)
    assert staff is not None
    return Actor(staff_id=staff.id, email=staff.email, name=staff.name, is_site_admin=True)


async def fresh_codes(session: AsyncSession, info: DemoInfo, data_dir: Path) -> DemoInfo:
    """A few new poll-card codes for Northgate at every start: only hashes are stored, so the
    codes printed last time cannot be shown again. The demo's returning officer's key pair is
    made first if need be (its private key goes to ``data_dir``, labelled demo only)."""
    actor = await _officer(session)
    key_file = await demo_officer_key(session, actor, info.pilot_id, data_dir)
    area = (
        await session.execute(select(Area).where(Area.pilot_id == info.pilot_id, Area.code == "E05000001"))
    ).scalar_one()
    poll_id = (
        await session.execute(
            select(Poll.id)
            .where(Poll.pilot_id == info.pilot_id, Poll.status == PollStatus.OPEN.value)
            .limit(1)
        )
    ).scalar_one_or_none()
    batch = await issue_codes(session, actor, info.pilot_id, area.id, DEMO_CODES)
    codes = tuple((c.reference, c.short_code) for c in batch.codes)
    return replace(info, poll_id=poll_id or 0, codes=codes, officer_key_file=key_file)
