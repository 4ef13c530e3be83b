"""The returning officer's public key of a pilot, and how many of its cards predate voter secrets.

Only the public key is stored: poll cards' voter secrets are sealed to it at issue, and the
private key, kept offline, is entered only to make a replacement card (polls.store.codes).
Changing the key is allowed (a lost private key must not stop new cards) and audited; cards
already sealed then need the key they were sealed to.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.officer_keys import parse_public_key, public_text
from polls.store import audit
from polls.store.models import Pilot, VoterCode
from polls.store.pilots import get_pilot


async def set_officer_key(session: AsyncSession, actor: Actor, pilot_id: int, public_key: str) -> Pilot:
    """Set the pilot's returning officer's public key (ropk_...); malformed keys are refused."""
    pilot = await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    normalised = public_text(parse_public_key(public_key))
    before = pilot.officer_public_key
    pilot.officer_public_key = normalised
    await audit.record(
        session,
        actor=actor.email,
        action="pilot.officer_key",
        target=f"pilot:{pilot_id}",
        pilot_id=pilot_id,
        before={"officer_public_key": before},
        after={"officer_public_key": normalised},
    )
    return pilot


async def legacy_cards(session: AsyncSession, pilot_id: int) -> int:
    """Cards issued before voter secrets (migration 0010): not protected against the operator."""
    query = select(func.count()).where(VoterCode.pilot_id == pilot_id, VoterCode.wrapped_secret.is_(None))
    return int((await session.execute(query)).scalar_one())
