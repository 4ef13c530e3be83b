"""Voter codes: issuing poll-card batches, revoking lost cards, re-issuing them, finding codes.

Only a keyed hash of each short code is stored; the short codes themselves leave this module
once, in the IssuedBatch handed back to whoever prints the cards. Each card gets a random voter
secret, stored wrapped under its code and sealed to the returning officer's public key
(polls.domain.voter_secrets, polls.domain.officer_keys); the secret itself is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Table, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.codes import new_reference, new_short_code
from polls.domain.officer_keys import Sealer, parse_private_key, public_text, unseal
from polls.domain.voter_secrets import code_pad, new_voter_secret, short_digest, wrap
from polls.errors import Conflict, ErrorCode, Forbidden, NotFound, ValidationFailed
from polls.store import audit
from polls.store.models import Area, CodeBatch, Pilot, Poll, ServiceKey, VoterCode, utcnow
from polls.store.pilots import get_area, get_pilot

MAX_BATCH = 200_000
POLL_CARD = "poll_card"
_CHUNK = 5_000  # rows per INSERT round trip

Progress = Callable[[int, int], None]  # (done, total)

# The ballot key never changes once the migration made it, so one read per database suffices.
_keys: dict[str, bytes] = {}


@dataclass(frozen=True)
class IssuedCode:
    reference: str
    short_code: str  # normalised; known only here and on the printed card


@dataclass(frozen=True)
class IssuedBatch:
    batch_id: int
    pilot_id: int
    area_id: int | None
    area_code: str
    codes: list[IssuedCode]


@dataclass(frozen=True)
class BatchSummary:
    id: int
    area_id: int | None
    area_code: str
    area_name: str
    count: int
    revoked: int
    replacement: bool  # a single card issued in place of a lost one
    created_by: str
    created_at: datetime


async def ballot_key(session: AsyncSession) -> bytes:
    """The service's stable key for short-code digests and nullifiers.

    Made of two halves that never change: one in the database (made by a migration), one in the
    settings (BALLOT_KEY), so neither a database copy nor the settings alone can recompute a
    nullifier from a voter's code."""
    bind = session.get_bind()
    outside = bind.get_execution_options().get("polls_ballot_key")
    if not outside:
        raise RuntimeError("the ballot key is not configured: open the engine with settings.ballot_key")
    url = bind.engine.url.render_as_string(hide_password=False)
    stored = _keys.get(url)
    if stored is None:
        query = select(ServiceKey.value).where(ServiceKey.name == "ballot_key")
        stored = bytes.fromhex((await session.execute(query)).scalar_one())
        _keys[url] = stored
    return hmac.new(str(outside).encode(), stored, hashlib.sha256).digest()


def _secret_columns(key: bytes, code: IssuedCode, secret: bytes, sealer: Sealer | None) -> dict[str, Any]:
    """A card's stored columns: its code's digest, and its voter secret wrapped and sealed."""
    return {
        "short_digest": short_digest(key, code.short_code),
        "wrapped_secret": wrap(secret, code_pad(code.short_code)),
        "sealed_secret": sealer.seal(secret, code.reference) if sealer is not None else None,
        "voter_key": None,
    }


def officer_sealer(pilot: Pilot) -> Sealer:
    if not pilot.officer_public_key:
        raise Conflict(
            "Set the returning officer's public key for this pilot before issuing poll cards",
            code=ErrorCode.OFFICER_KEY_NOT_SET,
        )
    return Sealer(pilot.officer_public_key)


def check_count(count: int) -> None:
    if count < 1:
        raise ValidationFailed.one("count", "Enter how many codes to issue: 1 or more")
    if count > MAX_BATCH:
        raise ValidationFailed.one("count", f"Issue at most {MAX_BATCH:,} codes at a time")


def _new_codes(count: int) -> list[IssuedCode]:
    references: set[str] = set()
    shorts: set[str] = set()
    codes: list[IssuedCode] = []
    while len(codes) < count:
        code = IssuedCode(new_reference(), new_short_code())
        # 100 and 65 random bits: a repeat is next to impossible, but must not fail the batch.
        if code.reference in references or code.short_code in shorts:
            continue
        references.add(code.reference)
        shorts.add(code.short_code)
        codes.append(code)
    return codes


async def issue_codes(
    session: AsyncSession,
    actor: Actor,
    pilot_id: int,
    area_id: int,
    count: int,
    *,
    progress: Progress | None = None,
) -> IssuedBatch:
    """Make a batch of ``count`` poll-card codes for one area; one audit entry for the batch."""
    area = await get_area(session, actor, pilot_id, area_id, Permission.MANAGE_PILOT)
    check_count(count)
    sealer = officer_sealer(await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT))
    key = await ballot_key(session)
    batch = CodeBatch(pilot_id=pilot_id, area_id=area.id, kind=POLL_CARD, count=count, created_by=actor.email)
    session.add(batch)
    await session.flush()
    codes = _new_codes(count)
    table = cast(Table, VoterCode.__table__)  # Core executemany: no ORM bookkeeping per row
    for start in range(0, count, _CHUNK):
        rows = [
            {
                "pilot_id": pilot_id,
                "area_id": area.id,
                "batch_id": batch.id,
                "reference": c.reference,
                "revoked": False,
                "replaces": None,
                **_secret_columns(key, c, new_voter_secret(), sealer),
            }
            for c in codes[start : start + _CHUNK]
        ]
        await session.execute(insert(table), rows)
        if progress is not None:
            progress(start + len(rows), count)
    await audit.record(
        session,
        actor=actor.email,
        action="codes.issue",
        target=f"batch:{batch.id}",
        pilot_id=pilot_id,
        after={"batch_id": batch.id, "kind": POLL_CARD, "area": area.code, "count": count},
    )
    return IssuedBatch(batch.id, pilot_id, area.id, area.code, codes)


async def find_by_short_code(session: AsyncSession, digest: str) -> VoterCode | None:
    """The card whose short code has this digest (polls.domain.voter_secrets.short_digest)."""
    query = select(VoterCode).where(VoterCode.short_digest == digest)
    return (await session.execute(query)).scalar_one_or_none()


async def find_by_reference(session: AsyncSession, reference: str) -> VoterCode | None:
    query = select(VoterCode).where(VoterCode.reference == reference)
    return (await session.execute(query)).scalar_one_or_none()


async def _code_of_pilot(session: AsyncSession, pilot_id: int, reference: str) -> VoterCode:
    query = (
        select(VoterCode)
        .where(VoterCode.reference == reference.strip().upper(), VoterCode.pilot_id == pilot_id)
        .with_for_update()  # two officers re-issuing one lost card at once make one replacement
    )
    code = (await session.execute(query)).scalar_one_or_none()
    if code is None:
        raise NotFound("There is no code with this reference in this pilot", code=ErrorCode.CODE_NOT_FOUND)
    return code


def _code_snapshot(code: VoterCode) -> dict[str, Any]:
    return {"reference": code.reference, "area_id": code.area_id, "revoked": code.revoked}


async def revoke_code(session: AsyncSession, actor: Actor, pilot_id: int, reference: str) -> VoterCode:
    """Cancel a lost card's code: it can no longer be used to vote."""
    await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    code = await _code_of_pilot(session, pilot_id, reference)
    if code.revoked:
        raise Conflict("This code has already been cancelled", code=ErrorCode.CODE_REVOKED)
    before = _code_snapshot(code)
    code.revoked = True
    await audit.record(
        session,
        actor=actor.email,
        action="code.revoke",
        target=f"code:{code.reference}",
        pilot_id=pilot_id,
        before=before,
        after=_code_snapshot(code),
    )
    return code


async def reissue_code(
    session: AsyncSession, actor: Actor, pilot_id: int, reference: str, officer_key: str
) -> tuple[VoterCode, IssuedCode]:
    """Cancel a lost card's code (if not yet cancelled) and make one new code for the same area.

    The new card takes over the lost card's voter secret, so it spends the same nullifiers: the
    secret is unsealed with the returning officer's private key (``officer_key``, entered now and
    never stored), wrapped under the new code and sealed again. A code is replaced at most once,
    so a lost card never turns into two live codes. Every check comes before any write.
    """
    pilot = await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    old = await _code_of_pilot(session, pilot_id, reference)
    replaced = await session.execute(select(VoterCode.reference).where(VoterCode.replaces == old.reference))
    if replaced.first() is not None:
        raise Conflict(
            "This code has already been replaced by a new one", code=ErrorCode.CODE_ALREADY_REPLACED
        )
    private = parse_private_key(officer_key)
    (new,) = _new_codes(1)
    columns = _replacement_columns(await ballot_key(session), pilot, old, new, private)
    before = _code_snapshot(old)
    old.revoked = True
    batch = CodeBatch(pilot_id=pilot_id, area_id=old.area_id, kind=POLL_CARD, count=1, created_by=actor.email)
    session.add(batch)
    await session.flush()
    code = VoterCode(
        pilot_id=pilot_id,
        area_id=old.area_id,
        batch_id=batch.id,
        reference=new.reference,
        revoked=False,
        replaces=old.reference,
        **columns,
    )
    session.add(code)
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="code.reissue",
        target=f"code:{old.reference}",
        pilot_id=pilot_id,
        before=before,
        after={"revoked": True, "replaced_by": new.reference, "batch_id": batch.id},
    )
    return code, new


def _replacement_columns(
    key: bytes, pilot: Pilot, old: VoterCode, new: IssuedCode, private: X25519PrivateKey
) -> dict[str, Any]:
    """The new card's stored columns, carrying the lost card's voter secret (or legacy key)."""
    entered = public_text(private.public_key())
    if old.wrapped_secret is None:  # a legacy card: it has no sealed secret to prove the key with
        if entered != pilot.officer_public_key:
            raise Forbidden(
                "This is not the returning officer's key for this pilot", code=ErrorCode.OFFICER_KEY_WRONG
            )
        return {"short_digest": short_digest(key, new.short_code), "voter_key": old.voter_key}
    if old.sealed_secret is None:
        raise Conflict(
            "Event codes are for one poll and cannot be replaced", code=ErrorCode.CODE_NOT_REPLACEABLE
        )
    secret = unseal(private, old.sealed_secret, old.reference)
    return _secret_columns(key, new, secret, Sealer(pilot.officer_public_key or entered))


async def find_area(session: AsyncSession, actor: Actor, pilot_id: int, area_code: str) -> Area:
    """The pilot's area with this code (such as an ONS ward code), for the command line."""
    await get_pilot(session, actor, pilot_id, Permission.MANAGE_PILOT)
    query = select(Area).where(Area.pilot_id == pilot_id, Area.code == area_code.strip())
    area = (await session.execute(query)).scalar_one_or_none()
    if area is None:
        raise NotFound(f"This pilot has no area with the code {area_code}", code=ErrorCode.AREA_NOT_FOUND)
    return area


async def area_code_of(session: AsyncSession, code: VoterCode) -> str:
    if code.area_id is None:
        return ""
    area = await session.get(Area, code.area_id)
    return area.code if area is not None else ""


async def list_batches(session: AsyncSession, actor: Actor, pilot_id: int) -> list[BatchSummary]:
    """Every batch issued in the pilot, newest first, with how many of its codes are cancelled."""
    await get_pilot(session, actor, pilot_id, Permission.VIEW_PILOT)
    revoked = func.coalesce(func.sum(case((VoterCode.revoked.is_(True), 1), else_=0)), 0)
    query = (
        select(
            CodeBatch,
            Area.code,
            Area.name,
            revoked,
            func.count(VoterCode.replaces),
        )
        .outerjoin(Area, Area.id == CodeBatch.area_id)
        .outerjoin(VoterCode, VoterCode.batch_id == CodeBatch.id)
        .where(CodeBatch.pilot_id == pilot_id, CodeBatch.kind == POLL_CARD)
        .group_by(CodeBatch.id, Area.code, Area.name)
        .order_by(CodeBatch.id.desc())
    )
    return [
        BatchSummary(
            id=batch.id,
            area_id=batch.area_id,
            area_code=area_code or "",
            area_name=area_name or "(area deleted)",
            count=batch.count,
            revoked=int(n_revoked),
            replacement=n_replacing > 0,
            created_by=batch.created_by,
            created_at=batch.created_at,
        )
        for batch, area_code, area_name, n_revoked, n_replacing in (await session.execute(query)).all()
    ]


EVENT = "event"


async def _todays_event_batch(session: AsyncSession, actor: Actor, poll: Poll) -> CodeBatch:
    """The poll's event-code batch of today (made if need be), counting one more code."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    query = select(CodeBatch).where(
        CodeBatch.poll_id == poll.id, CodeBatch.kind == EVENT, CodeBatch.created_at >= today
    )
    batch = (await session.execute(query.limit(1))).scalar_one_or_none()
    if batch is None:
        batch = CodeBatch(
            pilot_id=poll.pilot_id, poll_id=poll.id, area_id=None, kind=EVENT, count=0, created_by=actor.email
        )
        session.add(batch)
        await session.flush()
    # In SQL, not Python: two moderators handing out codes at once must both be counted.
    await session.execute(update(CodeBatch).where(CodeBatch.id == batch.id).values(count=CodeBatch.count + 1))
    return batch


async def issue_event_code(
    session: AsyncSession, actor: Actor, poll_id: int, area_id: int | None
) -> tuple[Poll, IssuedCode]:
    """One single-use code for one poll, handed out by a moderator at a community event.

    Codes issued for the same poll share one batch per day, so the batch list stays readable.
    """
    from polls.domain.polls import Assurance, PollStatus
    from polls.store.polls import get_poll

    poll = await get_poll(session, actor, poll_id, Permission.RUN_JURY)
    if poll.assurance != Assurance.EVENT.value:
        raise Conflict(
            "Event codes are for polls whose voters are checked at events", code=ErrorCode.NOT_AN_EVENT_POLL
        )
    if poll.status not in (PollStatus.SCHEDULED.value, PollStatus.OPEN.value):
        raise Conflict(
            "Event codes can be handed out only for scheduled or open polls", code=ErrorCode.POLL_NOT_OPEN
        )
    eligible = {a.id for a in poll.areas}
    if area_id is not None:
        area = await session.get(Area, area_id)
        if area is None or area.pilot_id != poll.pilot_id or (eligible and area_id not in eligible):
            raise ValidationFailed.one("area_id", "Choose one of the poll's areas")
    elif eligible:
        raise ValidationFailed.one("area_id", "Choose the area the person lives in")
    batch = await _todays_event_batch(session, actor, poll)
    (new,) = _new_codes(1)
    session.add(
        VoterCode(
            pilot_id=poll.pilot_id,
            area_id=area_id,
            batch_id=batch.id,
            reference=new.reference,
            revoked=False,
            # Event codes are never replaced, so their secrets are not sealed to the officer.
            **_secret_columns(await ballot_key(session), new, new_voter_secret(), None),
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=actor.email,
        action="code.event_issue",
        target=f"poll:{poll.id}",
        pilot_id=poll.pilot_id,
        after={"batch_id": batch.id, "area_id": area_id},
    )
    return poll, new
