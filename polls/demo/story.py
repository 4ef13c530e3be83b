"""The whole story of a decided demo poll: voted, counted, answered by the council, followed up."""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.ballots import check_ballot, new_tracker
from polls.domain.comment_review import CommentDecisionSpec, CommentStatus
from polls.domain.eligibility import nullifier
from polls.domain.polls import Action, NewPollSpec
from polls.domain.publication import FollowUpSpec, ResponseSpec
from polls.domain.validation import parse
from polls.store import comments as comment_store
from polls.store import lifecycle as poll_lifecycle
from polls.store import polls as poll_store
from polls.store import results as result_store
from polls.store.ballots import load_poll, poll_definition
from polls.store.codes import ballot_key
from polls.store.models import Area, Ballot, Nullifier, Poll

STORY_TITLE = "Northgate neighbourhood fund: what should come first?"
STORY_BALLOTS = 180

STORY_QUESTIONS: list[dict[str, Any]] = [
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
]

# The council's answers to the ranked, budget and scale questions, in that order.
RESPONSES = (
    "You put affordable homes and the community garden ahead of the other plans. The council "
    "will build homes on most of the depot site and keep the corner by the canal as a garden.",
    "We will fund the projects chosen by equal shares, as the results show, this financial year.",
    "Most of you said we do not listen well enough. Ward councillors will hold a monthly surgery "
    "in Northgate library from next month.",
)

# title, body, days from today, status
FOLLOW_UPS = (
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
)


async def seed_published_story(session: AsyncSession, officer: Actor, pilot_id: int) -> None:
    """A closed, counted and published poll with the council's responses and follow-ups; added
    once (also to a demo pilot seeded before this story existed)."""
    found = await session.execute(select(Poll.id).where(Poll.pilot_id == pilot_id, Poll.title == STORY_TITLE))
    if found.scalar_one_or_none() is not None:
        return
    areas = (await session.scalars(select(Area).where(Area.pilot_id == pilot_id).order_by(Area.name))).all()
    spec = {
        "title": STORY_TITLE,
        "description": "£60,000 of the neighbourhood fund is for Northgate. Residents chose what "
        "comes first.",
        "results_visibility": "after_review",
        "assurance": "poll_card",
        "questions": STORY_QUESTIONS,
    }
    poll = await poll_store.create_poll(session, officer, pilot_id, parse(NewPollSpec, spec))
    await poll_lifecycle.transition(session, officer, poll.id, Action.OPEN)
    await _story_ballots(session, poll.id, [a.id for a in areas], random.Random(2027))
    await poll_lifecycle.transition(session, officer, poll.id, Action.CLOSE)
    await _publish(session, officer, poll)


async def _publish(session: AsyncSession, officer: Actor, poll: Poll) -> None:
    """Counted by equal shares, answered question by question, published, then followed up."""
    ranked, budget, scale, _ = (q.id for q in poll.questions)
    await result_store.set_method(session, officer, poll.id, budget, "equal_shares")
    await poll_lifecycle.transition(session, officer, poll.id, Action.REVIEW)
    for question_id, text in zip((ranked, budget, scale), RESPONSES, strict=True):
        await result_store.set_response(
            session, officer, poll.id, question_id, parse(ResponseSpec, {"response": text})
        )
    result = await result_store.load(session, poll.id)
    publish_as_written = CommentDecisionSpec(decision=CommentStatus.PUBLISHED)
    for number in range(1, len(result.comments) + 1 if result else 1):  # the officer read them all
        await comment_store.decide(session, officer, poll.id, number, publish_as_written)
    await poll_lifecycle.transition(session, officer, poll.id, Action.PUBLISH)
    today = date.today()
    for title, body, days, status in FOLLOW_UPS:
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
