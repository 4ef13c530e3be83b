"""The demo pilot `polls dev` seeds, so a newcomer has something real to look at."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.ballots import check_ballot, new_tracker
from polls.domain.eligibility import nullifier
from polls.domain.pilots import AreaSpec, PilotSpec
from polls.domain.polls import Action, NewPollSpec
from polls.domain.publication import FollowUpSpec, ResponseSpec
from polls.domain.validation import parse
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store import results as result_store
from polls.store.ballots import load_poll, poll_definition
from polls.store.codes import ballot_key
from polls.store.demo_jury import seed_demo_jury
from polls.store.demo_jury_session import seed_demo_session
from polls.store.models import Area, Ballot, Nullifier, Pilot, Poll, utcnow
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
    jury_id: int = 0  # the demo jury
    jury_session_id: int = 0  # its session, ready to run


DEMO_CODES = 5


async def seed(session: AsyncSession) -> DemoInfo:
    """Create the demo pilot once; later runs find it and change nothing."""
    existing = (await session.execute(select(Pilot).where(Pilot.name == DEMO_PILOT))).scalar_one_or_none()
    if existing is not None:
        await seed_published_story(session, existing.id)
        jury_id = await seed_demo_jury(session, existing.id, DEMO_EMAIL)
        room = await seed_demo_session(session, DEMO_EMAIL, jury_id)
        return DemoInfo(
            existing.id, DEMO_EMAIL, DEMO_PASSWORD, created=False, jury_id=jury_id, jury_session_id=room
        )
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
                "accessibility_statement": (
                    "Demo Borough Council wants as many people as possible to be able to use this "
                    "service. It works without JavaScript, on small screens, with a screen reader "
                    "and with text made larger. Results are given as tables as well as charts. If "
                    "you need a poll in large print, easy read or another language, or want to vote "
                    "on paper, contact us and we will reply within 5 working days."
                ),
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
    await seed_published_story(session, pilot.id)
    jury_id = await seed_demo_jury(session, pilot.id, DEMO_EMAIL)
    room = await seed_demo_session(session, DEMO_EMAIL, jury_id)
    return DemoInfo(pilot.id, DEMO_EMAIL, DEMO_PASSWORD, created=True, jury_id=jury_id, jury_session_id=room)


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


# The whole story of a decided poll: voted, counted, answered by the council, followed up.

STORY_TITLE = "Northgate neighbourhood fund: what should come first?"
STORY_BALLOTS = 180


async def seed_published_story(session: AsyncSession, pilot_id: int) -> None:
    """A closed, counted and published poll with the council's responses and follow-ups; added
    once (also to a demo pilot seeded before this story existed)."""
    found = await session.execute(select(Poll.id).where(Poll.pilot_id == pilot_id, Poll.title == STORY_TITLE))
    if found.scalar_one_or_none() is not None:
        return
    staff = await find_by_email(session, DEMO_EMAIL)
    assert staff is not None
    officer = Actor(staff_id=staff.id, email=staff.email, name=staff.name, is_site_admin=True)
    areas = (await session.scalars(select(Area).where(Area.pilot_id == pilot_id).order_by(Area.name))).all()
    poll = await poll_store.create_poll(
        session,
        officer,
        pilot_id,
        parse(
            NewPollSpec,
            {
                "title": STORY_TITLE,
                "description": "£60,000 of the neighbourhood fund is for Northgate. Residents chose what "
                "comes first.",
                "results_visibility": "after_review",
                "assurance": "poll_card",
                "questions": [
                    {
                        "kind": "ranked",
                        "title": "Rank the plans for the old bus depot site",
                        "options": [
                            {"label": "Community garden"},
                            {"label": "Skate park"},
                            {"label": "Affordable homes"},
                            {"label": "Market square"},
                        ],
                    },
                    {
                        "kind": "budget",
                        "title": "Share £60,000 between these projects",
                        "budget_total": 60000,
                        "options": [
                            {"label": "Play area repairs", "cost": 25000},
                            {"label": "Street lighting on Mill Lane", "cost": 20000},
                            {"label": "Youth club equipment", "cost": 15000},
                            {"label": "Bus shelter seating", "cost": 8000},
                            {"label": "Wildflower verges", "cost": 5000},
                        ],
                    },
                    {
                        "kind": "scale",
                        "title": "How well does the council listen to Northgate residents?",
                        "scale_min": 1,
                        "scale_max": 5,
                        "min_label": "Not at all",
                        "max_label": "Very well",
                    },
                    {"kind": "comment", "title": "Anything else?", "max_length": 1000},
                ],
            },
        ),
    )
    await poll_store.transition(session, officer, poll.id, Action.OPEN)
    await _story_ballots(session, poll.id, [a.id for a in areas], random.Random(2027))
    await poll_store.transition(session, officer, poll.id, Action.CLOSE)
    ranked, budget, scale, _ = (q.id for q in poll.questions)
    await result_store.set_method(session, officer, poll.id, budget, "equal_shares")
    await poll_store.transition(session, officer, poll.id, Action.REVIEW)
    responses = {
        ranked: "You put affordable homes and the community garden ahead of the other plans. The council "
        "will build homes on most of the depot site and keep the corner by the canal as a garden.",
        budget: "We will fund the projects chosen by equal shares, as the results show, this financial year.",
        scale: "Most of you said we do not listen well enough. Ward councillors will hold a monthly surgery "
        "in Northgate library from next month.",
    }
    for question_id, text in responses.items():
        await result_store.set_response(
            session, officer, poll.id, question_id, parse(ResponseSpec, {"response": text})
        )
    await poll_store.transition(session, officer, poll.id, Action.PUBLISH)
    today = date.today()
    for title, body, days, status in (
        (
            "Planning brief for the depot site",
            "Cabinet agreed the planning brief: homes and a canal-side garden.",
            -7,
            "done",
        ),
        (
            "Play area repairs start",
            "The contractor starts work on the play area; it stays open.",
            30,
            "planned",
        ),
    ):
        spec = {
            "title": title,
            "body": body,
            "milestone_on": (today + timedelta(days=days)).isoformat(),
            "status": status,
        }
        await result_store.add_follow_up(session, officer, poll.id, parse(FollowUpSpec, spec))


async def _story_ballots(
    session: AsyncSession, poll_id: int, area_ids: list[int], rng: random.Random
) -> None:
    """Residents' ballots, checked and stored as the ballot writer stores them (a ballot with a
    tracker, a nullifier of a reference nobody keeps), with answers drawn from a seeded random."""
    poll = await load_poll(session, poll_id)
    definition = poll_definition(poll)
    ranked, budget, scale, comment = poll.questions
    key = await ballot_key(session)
    for _ in range(STORY_BALLOTS):
        options = [o.id for o in ranked.options]
        # higher weight: more often ranked first
        order = sorted(options, key=lambda o: rng.random() / (1.2, 0.8, 1.4, 0.7)[options.index(o)])
        projects, spent = [], 0
        for o in budget.options:  # what this resident likes, while it fits the budget
            liked = rng.random() < (0.6, 0.45, 0.35, 0.5, 0.55)[budget.options.index(o)]
            if liked and spent + (o.cost or 0) <= 60000:
                projects.append(o.id)
                spent += o.cost or 0
        raw = {
            str(ranked.id): order[: rng.randint(1, 4)],
            str(budget.id): projects,
            str(scale.id): rng.choice([1, 2, 2, 3, 3, 3, 4, 5]),
        }
        if rng.random() < 0.2:
            raw[str(comment.id)] = "Please keep the library open too."
        answers = check_ballot(definition, raw)
        channel = rng.choice(["online"] * 7 + ["paper"] * 2 + ["event"])
        session.add(Nullifier(poll_id=poll_id, value=nullifier(key, poll_id, secrets.token_hex(10))))
        session.add(
            Ballot(
                poll_id=poll_id,
                tracker=new_tracker(poll_id, answers),
                area_id=rng.choice(area_ids),
                channel=channel,
                answers=answers,
            )
        )
    await session.flush()
