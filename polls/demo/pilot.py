"""The demo pilot itself: Demo Borough, its three areas, an open poll and a scheduled one."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.pilots import AreaSpec, PilotSpec
from polls.domain.polls import Action, NewPollSpec
from polls.domain.validation import parse
from polls.store import lifecycle as poll_lifecycle
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.models import utcnow

DEMO_PILOT = "Demo Borough"

ACCESSIBILITY_STATEMENT = (
    "Demo Borough Council wants as many people as possible to be able to use this "
    "service. It works without JavaScript, on small screens, with a screen reader "
    "and with text made larger. Results are given as tables as well as charts. If "
    "you need a poll in large print, easy read or another language, or want to vote "
    "on paper, contact us and we will reply within 5 working days."
)

AREAS = (
    ("Northgate", "E05000001", ["DB1 1", "DB1 2"]),
    ("Riverside", "E05000002", ["DB2 1", "DB2 3"]),
    ("Southfields", "E05000003", ["DB3 4", "DB3 5"]),
)

# One question of every kind a resident can answer.
HIGH_STREET_QUESTIONS: list[dict[str, Any]] = [
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
]

PARK_QUESTIONS: list[dict[str, Any]] = [
    {
        "kind": "single",
        "title": "When should the gates close in summer?",
        "options": [
            {"label": "At dusk, as now"},
            {"label": "At 9pm"},
            {"label": "At 10pm"},
        ],
    },
]


async def create_demo_pilot(session: AsyncSession, officer: Actor) -> int:
    """The pilot with its areas, the high street poll open and the park poll scheduled; its id."""
    pilot = await pilot_store.create_pilot(session, officer, _pilot_spec(date.today()))
    areas = []
    for name, code, postcodes in AREAS:
        spec = parse(AreaSpec, {"name": name, "code": code, "postcodes": postcodes})
        areas.append(await pilot_store.add_area(session, officer, pilot.id, spec))
    now = utcnow().replace(second=0, microsecond=0)
    high_street = await poll_store.create_poll(session, officer, pilot.id, _high_street_spec(now))
    await poll_lifecycle.transition(session, officer, high_street.id, Action.OPEN)
    park = await poll_store.create_poll(session, officer, pilot.id, _park_spec(now, riverside_id=areas[1].id))
    await poll_lifecycle.transition(session, officer, park.id, Action.SCHEDULE)
    return pilot.id


def _pilot_spec(today: date) -> PilotSpec:
    return parse(
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
            "accessibility_statement": ACCESSIBILITY_STATEMENT,
        },
    )


def _high_street_spec(now: datetime) -> NewPollSpec:
    """Open for 30 days, results shown live, voted with poll cards."""
    return parse(
        NewPollSpec,
        {
            "title": "The future of Demo Borough high street",
            "description": "The council has money to improve the high street. Tell us what matters most.",
            "closes_at": (now + timedelta(days=30)).isoformat(),
            "results_visibility": "live",
            "assurance": "poll_card",
            "questions": HIGH_STREET_QUESTIONS,
        },
    )


def _park_spec(now: datetime, riverside_id: int) -> NewPollSpec:
    """Riverside only, opening in a week for two weeks, results after it closes."""
    return parse(
        NewPollSpec,
        {
            "title": "Riverside park opening hours",
            "description": "Should the park gates stay open later in summer?",
            "area_ids": [riverside_id],
            "opens_at": (now + timedelta(days=7)).isoformat(),
            "closes_at": (now + timedelta(days=21)).isoformat(),
            "results_visibility": "after_close",
            "questions": PARK_QUESTIONS,
        },
    )
