"""The demo pilot `polls dev` seeds, so a newcomer has something real to look at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.pilots import AreaSpec, PilotSpec
from polls.domain.polls import Action, NewPollSpec
from polls.domain.validation import parse
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.demo_jury import seed_demo_jury
from polls.store.models import Pilot, utcnow
from polls.store.staff import create_staff, find_by_email

DEMO_PILOT = "Demo Borough"
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


DEMO_CODES = 5


async def seed(session: AsyncSession) -> DemoInfo:
    """Create the demo pilot once; later runs find it and change nothing."""
    existing = (await session.execute(select(Pilot).where(Pilot.name == DEMO_PILOT))).scalar_one_or_none()
    if existing is not None:
        await seed_demo_jury(session, existing.id, DEMO_EMAIL)
        return DemoInfo(existing.id, DEMO_EMAIL, DEMO_PASSWORD, created=False)
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
    officer = Actor(staff_id=staff.id, email=staff.email, name=staff.name, is_site_admin=True)
    today = date.today()
    pilot = await pilot_store.create_pilot(
        session,
        officer,
        parse(
            PilotSpec,
            {
                "name": DEMO_PILOT,
                "region": "Demo Region",
                "council": "Demo Borough Council",
                "languages": ["en", "cy"],
                "starts_on": today.isoformat(),
                "ends_on": (today + timedelta(days=180)).isoformat(),
                "contact_email": "democracy@demo-borough.example",
                "contact_phone": "01234 567890",
                "accessibility_url": "https://demo-borough.example/accessibility",
            },
        ),
    )
    areas = []
    for name, code, postcodes in (
        ("Northgate", "E05000001", ["DB1 1", "DB1 2"]),
        ("Riverside", "E05000002", ["DB2 1", "DB2 3"]),
        ("Southfields", "E05000003", ["DB3 4", "DB3 5"]),
    ):
        spec = parse(AreaSpec, {"name": name, "code": code, "postcodes": postcodes})
        areas.append(await pilot_store.add_area(session, officer, pilot.id, spec))
    now = utcnow().replace(second=0, microsecond=0)
    high_street = await poll_store.create_poll(
        session,
        officer,
        pilot.id,
        parse(
            NewPollSpec,
            {
                "title": "The future of Demo Borough high street",
                "description": "The council has money to improve the high street. Tell us what matters most.",
                "closes_at": (now + timedelta(days=30)).isoformat(),
                "results_visibility": "live",
                "assurance": "poll_card",
                "questions": [
                    {
                        "kind": "single",
                        "title": "How often do you visit the high street?",
                        "options": [
                            {"label": "Most days"},
                            {"label": "Every week"},
                            {"label": "Every month"},
                            {"label": "Rarely or never"},
                        ],
                    },
                    {
                        "kind": "multiple",
                        "title": "Which improvements would you use? Choose up to three.",
                        "min_choices": 1,
                        "max_choices": 3,
                        "options": [
                            {"label": "More seating"},
                            {"label": "Public toilets"},
                            {"label": "Bike parking"},
                            {"label": "Street trees"},
                            {"label": "Better lighting"},
                        ],
                    },
                    {
                        "kind": "ranked",
                        "title": "Rank the options for the empty market hall",
                        "options": [
                            {"label": "Food market"},
                            {"label": "Youth centre"},
                            {"label": "Library and hub"},
                            {"label": "Small business units"},
                        ],
                    },
                    {
                        "kind": "scale",
                        "title": "How safe do you feel on the high street after dark?",
                        "scale_min": 1,
                        "scale_max": 5,
                        "min_label": "Very unsafe",
                        "max_label": "Very safe",
                    },
                    {
                        "kind": "budget",
                        "title": "Share £100,000 between these projects",
                        "budget_total": 100000,
                        "options": [
                            {"label": "Planters and trees", "cost": 30000},
                            {"label": "New lighting", "cost": 45000},
                            {"label": "Free Wi-Fi", "cost": 20000},
                            {"label": "Market stalls", "cost": 35000},
                        ],
                    },
                    {
                        "kind": "comment",
                        "title": "Anything else you want the council to know?",
                        "max_length": 1000,
                    },
                ],
            },
        ),
    )
    await poll_store.transition(session, officer, high_street.id, Action.OPEN)
    park = await poll_store.create_poll(
        session,
        officer,
        pilot.id,
        parse(
            NewPollSpec,
            {
                "title": "Riverside park opening hours",
                "description": "Should the park gates stay open later in summer?",
                "area_ids": [areas[1].id],
                "opens_at": (now + timedelta(days=7)).isoformat(),
                "closes_at": (now + timedelta(days=21)).isoformat(),
                "results_visibility": "after_close",
                "questions": [
                    {
                        "kind": "single",
                        "title": "When should the gates close in summer?",
                        "options": [
                            {"label": "At dusk, as now"},
                            {"label": "At 9pm"},
                            {"label": "At 10pm"},
                        ],
                    },
                ],
            },
        ),
    )
    await poll_store.transition(session, officer, park.id, Action.SCHEDULE)
    await seed_demo_jury(session, pilot.id, DEMO_EMAIL)
    return DemoInfo(pilot.id, DEMO_EMAIL, DEMO_PASSWORD, created=True)


async def fresh_codes(session: AsyncSession, info: DemoInfo) -> DemoInfo:
    """A few new poll-card codes for Northgate at every start: only hashes are stored, so the
    codes printed last time cannot be shown again."""
    from dataclasses import replace

    from polls.domain.polls import PollStatus
    from polls.store.codes import issue_codes
    from polls.store.models import Area, Poll

    officer = await find_by_email(session, DEMO_EMAIL)
    assert officer is not None
    actor = Actor(staff_id=officer.id, email=officer.email, name=officer.name, is_site_admin=True)
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
    return replace(info, poll_id=poll_id or 0, codes=tuple((c.reference, c.short_code) for c in batch.codes))
