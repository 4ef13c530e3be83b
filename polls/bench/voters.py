"""The benchmarks' pilot, poll and voters: seeded in the database, with one request body a voter."""

from __future__ import annotations

import json
import random
import secrets
from pathlib import Path
from typing import Any

from polls.domain.access import Actor
from polls.domain.officer_keys import new_key_pair
from polls.domain.pilots import AreaSpec, PilotSpec
from polls.domain.polls import Action, NewPollSpec
from polls.domain.validation import parse
from polls.store import lifecycle as poll_lifecycle
from polls.store import pilots as pilot_store
from polls.store import polls as poll_store
from polls.store.codes import issue_codes
from polls.store.db import open_engine, sessions_for
from polls.store.officer_keys import set_officer_key
from polls.store.staff import create_staff
from polls.tokens import VOTER_CODE, Tokens

# The benchmark's pilot and its one poll: a question of each common kind.
PILOT = {
    "name": "Bench Borough",
    "region": "Bench",
    "council": "Bench Council",
    "starts_on": "2026-01-01",
    "ends_on": "2027-12-31",
    "contact_email": "bench@polls.example",
}
POLL: dict[str, Any] = {
    "title": "Benchmark poll",
    "results_visibility": "live",
    "questions": [
        {"kind": "single", "title": "Pick one", "options": [{"label": f"Option {i}"} for i in range(4)]},
        {
            "kind": "multiple",
            "title": "Pick up to three",
            "max_choices": 3,
            "options": [{"label": f"Choice {i}"} for i in range(5)],
        },
        {"kind": "scale", "title": "How much?", "scale_min": 1, "scale_max": 5},
    ],
}


async def seed(
    database_url: str, codes: int, ballot_key: str, poll_spec: dict[str, Any] = POLL, areas: int = 1
) -> tuple[int, list[str], list[dict[str, Any]]]:
    """A pilot with ``areas`` areas, an open poll and ``codes`` voting codes: the poll's id, the
    codes, and its questions (id, kind, options, settings)."""
    engine = open_engine(database_url, ballot_key=ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            staff = await create_staff(
                session,
                email="bench@polls.example",
                name="Bench",
                password=secrets.token_urlsafe(16),
                site_admin=True,
                actor="bench",
            )
            actor = Actor(staff.id, staff.email, staff.name, is_site_admin=True)
            pilot = await pilot_store.create_pilot(session, actor, parse(PilotSpec, PILOT))
            area_ids = [
                (
                    await pilot_store.add_area(
                        session, actor, pilot.id, parse(AreaSpec, {"name": f"Ward {n}", "code": f"A{n}"})
                    )
                ).id
                for n in range(1, areas + 1)
            ]
            # Cards are sealed to a returning officer's key; the bench never replaces one, so the
            # private half is thrown away.
            await set_officer_key(session, actor, pilot.id, new_key_pair()[1])
            poll = await poll_store.create_poll(session, actor, pilot.id, parse(NewPollSpec, poll_spec))
            await poll_lifecycle.transition(session, actor, poll.id, Action.OPEN)
            short_codes: list[str] = []
            if codes:
                batch = await issue_codes(session, actor, pilot.id, area_ids[0], codes)
                short_codes = [c.short_code for c in batch.codes]
            questions = [
                {
                    "id": q.id,
                    "kind": q.kind,
                    "options": [o.id for o in q.options],
                    "costs": [o.cost or 0 for o in q.options],
                    "settings": dict(q.settings),
                    "areas": area_ids,
                }
                for q in poll.questions
            ]
            return poll.id, short_codes, questions
    finally:
        await engine.dispose()


def ballot(questions: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    single, multiple, scale = questions
    return {
        str(single["id"]): rng.choice(single["options"]),
        str(multiple["id"]): rng.sample(multiple["options"], rng.randint(1, 3)),
        str(scale["id"]): rng.randint(1, 5),
    }


def write_votes(
    workdir: Path,
    tokens: Tokens,
    codes: list[str],
    questions: list[dict[str, Any]],
    warmup: int,
    votes: int,
    rounds: int,
) -> tuple[Path, list[Path]]:
    """One request body a line: the warm-up's file, then one file of ``votes`` per round."""
    rng = random.Random(7)
    bodies = [
        json.dumps({"code": tokens.sign(VOTER_CODE, code), "answers": ballot(questions, rng)}).encode()
        for code in codes
    ]
    warm_file = workdir / "warmup.jsonl"
    warm_file.write_bytes(b"\n".join(bodies[:warmup]) + b"\n")
    round_files = []
    for n in range(rounds):
        round_file = workdir / f"votes-{n + 1}.jsonl"
        first = warmup + n * votes
        round_file.write_bytes(b"\n".join(bodies[first : first + votes]) + b"\n")
        round_files.append(round_file)
    return warm_file, round_files


async def verify(database_url: str, redis_url: str, poll_id: int) -> dict[str, Any]:
    """Stored ballots and nullifiers of the poll, and how many live tallies differ from the database."""
    from redis.asyncio import Redis
    from sqlalchemy import func, select

    from polls.live.tallies import Tallies
    from polls.store.models import Ballot, Nullifier

    engine = open_engine(database_url)  # counting only: no ballot key needed
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        db = sessions_for(engine)
        async with db() as session:
            ballots = (
                await session.execute(select(func.count()).where(Ballot.poll_id == poll_id))
            ).scalar_one()
            nullifiers = (
                await session.execute(select(func.count()).where(Nullifier.poll_id == poll_id))
            ).scalar_one()
        check = await Tallies(redis, db).check(poll_id)
        return {"ballots": ballots, "nullifiers": nullifiers, "tally_differences": len(check.differences)}
    finally:
        await redis.aclose()
        await engine.dispose()
