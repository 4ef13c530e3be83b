"""The demo pilot's citizens' jury: a generated pool, its lottery published and drawn, the panel
invited and most of it accepted, so a jury session can be run straight away."""

from __future__ import annotations

import csv
import io
import random
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.juries import DrawSpec, JurorStatus, JurySpec, read_pool_files
from polls.domain.sortition.randomness import PublishSpec, hash_reveal
from polls.domain.validation import parse
from polls.store import juries as jury_store
from polls.store import jurors as juror_store
from polls.store import lotteries as lottery_store
from polls.store.models import Juror, Jury
from polls.store.staff import find_by_email
from polls.tokens import Tokens

DEMO_JURY = "Demo Borough Citizens' Jury on Climate"
POOL_SIZE = 200
PANEL = 16
ACCEPTING = 13  # panel members who accept; one declines (a reserve is invited), two have not answered
# The demo draw's public randomness: each person's rolls and secret word, revealed at the draw.
DICE = [
    ("Rosa (residents' forum)", "3 1 6 2 5 5 4 1 6 2 lantern-moss"),
    ("Tom (council)", "6 6 2 4 1 3 5 2 2 4 quiet-harbour"),
]
NAMES = ["Amira", "Ben", "Chloe", "Dev", "Ewa", "Femi", "Grace", "Hamid", "Isla", "Jon", "Kofi", "Lena", "Mo"]
# Roughly the borough's make-up: the shares the quotas are built from.
CATEGORIES = {
    "gender": [("female", 0.51), ("male", 0.49)],
    "age": [("16-29", 0.22), ("30-44", 0.26), ("45-64", 0.32), ("65+", 0.20)],
    "area": [("Northgate", 0.34), ("Riverside", 0.33), ("Southfields", 0.33)],
    "housing": [("owner", 0.55), ("renter", 0.30), ("social housing", 0.15)],
}


def demo_files(rng: random.Random) -> tuple[str, str]:
    """The people and categories CSV files a recruitment round would produce (names included, as
    councils' files have them; the service ignores them)."""
    people = io.StringIO()
    writer = csv.writer(people)
    writer.writerow(["id", "first_name", "address", *CATEGORIES])
    for i in range(1, POOL_SIZE + 1):
        features = [rng.choices([f for f, _ in v], [w for _, w in v])[0] for v in CATEGORIES.values()]
        # The first two dozen volunteers live in pairs: only one of each pair may sit.
        address = f"{(i + 1) // 2} Canal Row" if i <= 24 else f"{i} High Street"
        writer.writerow([f"DB{i:04}", f"Volunteer {i}", address, *features])
    categories = io.StringIO()
    writer = csv.writer(categories)
    writer.writerow(["category", "feature", "min", "max"])
    for category, shares in CATEGORIES.items():
        for feature, share in shares:
            target = round(share * PANEL)
            writer.writerow([category, feature, max(0, target - 1), target + 1])
    return people.getvalue(), categories.getvalue()


async def seed_demo_jury(session: AsyncSession, pilot_id: int, officer_email: str) -> int:
    """Add the demo jury once (later runs find it); its id."""
    staff = await find_by_email(session, officer_email)
    assert staff is not None
    officer = Actor(staff_id=staff.id, email=staff.email, name=staff.name, is_site_admin=True)
    found = await session.execute(select(Jury.id).where(Jury.pilot_id == pilot_id, Jury.title == DEMO_JURY))
    existing = found.scalar_one_or_none()
    if existing is not None:
        return existing
    spec = JurySpec(
        title=DEMO_JURY,
        remit="How should Demo Borough cut its carbon emissions by 2030, and what should residents, "
        "businesses and the council each do?",
        size=PANEL,
        threshold=75,
        households_apart=True,
    )
    jury = await jury_store.create_jury(session, officer, pilot_id, spec)
    people, categories = demo_files(random.Random(2026))
    pool = read_pool_files(people, categories, household_columns=("address",))
    await jury_store.replace_pool(session, officer, jury.id, pool)
    await lottery_store.compute_lottery_now(session, officer, jury.id)
    # Two named people commit to their dice rolls (each with a secret word) before publication,
    # and reveal them at the draw.
    rollers = [{"name": name, "sha256": hash_reveal(rolls)} for name, rolls in DICE]
    await jury_store.publish_lottery(
        session, officer, jury.id, parse(PublishSpec, {"randomness": {"kind": "dice", "people": rollers}})
    )
    reveals = [rolls for _, rolls in DICE]
    await jury_store.draw_jury(
        session, officer, jury.id, parse(DrawSpec, {"reserves": 8, "reveals": reveals})
    )
    panel = await juror_store.open_invitations(session, officer, jury.id)
    # People answer through their links, as they would on their phones.
    tokens = Tokens((secrets.token_hex(16),))
    for juror, name in zip(panel[:ACCEPTING], NAMES, strict=True):
        token = juror_store.invitation_link(tokens, "", juror).rsplit("/", 1)[1]
        await juror_store.accept_invitation(session, tokens, jury.id, token, name)
    token = juror_store.invitation_link(tokens, "", panel[ACCEPTING]).rsplit("/", 1)[1]
    await juror_store.decline_invitation(session, tokens, jury.id, token)
    return jury.id


async def demo_room_links(
    session: AsyncSession, tokens: Tokens, base_url: str, jury_id: int
) -> list[tuple[str, str]]:
    """Each demo juror's name and jury room link (room links can be signed again at any start)."""
    query = (
        select(Juror)
        .where(Juror.jury_id == jury_id, Juror.status == JurorStatus.ACCEPTED)
        .order_by(Juror.seat)
    )
    return [
        (j.display_name or "", juror_store.room_link(tokens, base_url, j))
        for j in (await session.scalars(query)).all()
    ]
