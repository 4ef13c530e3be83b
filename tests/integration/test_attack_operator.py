"""Adversary 4, the operator: all the storage (database, Redis) and every key the running service
holds (SECRET_KEYS, BALLOT_KEY). It must not be able to tie a card (its reference) to its ballot:
the nullifier that joins a vote to its card must need a secret the service does not keep."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import httpx
from redis.asyncio import Redis
from sqlalchemy import text

from polls.settings import Settings
from polls.store.codes import ballot_key
from polls.store.db import open_engine, sessions_for
from tests.factories import OFFICER_PRIVATE_KEY
from tests.voting_setup import Setup, vote


def _derivable(key: bytes, poll_id: int, row: dict[str, object]) -> set[str]:
    """Every value the operator can make from a card's row and the service's keys."""
    found: set[str] = set()
    for value in row.values():
        if value is None:
            continue
        material = value.hex() if isinstance(value, bytes) else str(value)
        for message in (f"{poll_id}:{material}", f"claim:{poll_id}:{material}", material):
            found.add(hmac.digest(key, message.encode(), "sha256").hex())
            found.add(hashlib.sha256(message.encode()).hexdigest())
            if isinstance(value, bytes) or len(material) in (64, 96, 192):
                raw = bytes.fromhex(material) if not isinstance(value, bytes) else value
                found.add(hmac.digest(raw, f"poll:{poll_id}".encode(), "sha256").hex())
    return found


async def _operator_view(
    settings: Settings, redis: Redis
) -> tuple[bytes, list[dict[str, object]], set[str], set[str]]:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine)() as session:
            key = await ballot_key(session)  # the operator holds both halves
            cards = [dict(r._mapping) for r in await session.execute(text("SELECT * FROM voter_codes"))]
            nullifiers = {r[0] for r in await session.execute(text("SELECT value FROM nullifiers"))}
    finally:
        await engine.dispose()
    redis_keys = {k.rsplit(":", 1)[-1] async for k in redis.scan_iter("*")}
    return key, cards, nullifiers, redis_keys


async def test_operator_with_all_storage_and_keys_cannot_tie_a_card_to_its_vote(
    officer: httpx.AsyncClient, voting: Setup, settings: Settings, redis: Redis
) -> None:
    poll_id = voting.poll["id"]
    cards = voting.codes["north"] + voting.codes_for_restart
    for card in cards:  # one lone vote at a time: the easiest case for the attacker
        response = await vote(officer, poll_id, card.short_code, voting.full_ballot())
        assert response.status_code == 201, response.text
    await asyncio.sleep(0.3)  # the writer has settled its claims in Redis
    key, rows, nullifiers, redis_keys = await _operator_view(settings, redis)
    assert len(nullifiers) == len(cards)
    linked = [r["reference"] for r in rows if _derivable(key, poll_id, r) & (nullifiers | redis_keys)]
    assert linked == [], f"the operator tied {len(linked)} of {len(cards)} cards to their votes"


async def test_a_replacement_card_shares_the_lost_cards_vote_only_with_the_officers_key(
    officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id, pilot_id = voting.poll["id"], voting.pilot["id"]
    lost = voting.codes["north"][0]
    assert (await vote(officer, poll_id, lost.short_code, voting.full_ballot())).status_code == 201
    url = f"/api/pilots/{pilot_id}/codes/{lost.reference}/reissue"

    missing = await officer.post(url, json={})
    assert (missing.status_code, missing.json()["code"]) == (422, "officer_key_missing")
    wrong = await officer.post(url, json={"officer_key": "rosk_" + "11" * 32})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "officer_key_wrong")
    malformed = await officer.post(url, json={"officer_key": "not a key"})
    assert (malformed.status_code, malformed.json()["code"]) == (422, "officer_key_malformed")
    batches = (await officer.get(f"/api/pilots/{pilot_id}/codes")).json()
    assert not any(b["replacement"] for b in batches) and not any(b["revoked"] for b in batches)

    replaced = await officer.post(url, json={"officer_key": OFFICER_PRIVATE_KEY})
    assert replaced.status_code == 201, replaced.text
    again = await vote(officer, poll_id, replaced.json()["short_code"], voting.full_ballot())
    assert (again.status_code, again.json()["code"]) == (409, "code_already_used")
    unused = voting.codes["north"][1]
    fresh = await officer.post(
        f"/api/pilots/{pilot_id}/codes/{unused.reference}/reissue", json={"officer_key": OFFICER_PRIVATE_KEY}
    )
    assert (await vote(officer, poll_id, fresh.json()["short_code"], voting.full_ballot())).status_code == 201
    revoked = await vote(officer, poll_id, unused.short_code, voting.full_ballot())
    assert revoked.json()["code"] == "code_revoked"
