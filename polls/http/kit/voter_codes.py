"""A voter's code, from a voting link or typed off a poll card, read as the card's credential:
its short digest and the pad that unwraps its voter secret (polls.domain.voter_secrets)."""

from __future__ import annotations

from typing import Any

from polls.domain.codes import LENGTH, normalise_short_code
from polls.domain.eligibility import UNKNOWN_CODE
from polls.domain.voter_secrets import CardCredential, claim_of
from polls.errors import CodeNotValid, ErrorCode
from polls.i18n import N_
from polls.runtime import Runtime
from polls.store.codes import find_by_reference, find_by_short_code
from polls.store.models import VoterCode
from polls.tokens import VOTER_CODE


async def credential_for_code(rt: Runtime, code: Any) -> CardCredential:
    """A voting link token (vc_...) or a typed short code, as the card's credential. A typed code
    is not looked up here: the batch's transaction (or an eligibility check) finds the card."""
    if not isinstance(code, str) or not code.strip():
        raise CodeNotValid(N_("Enter the code from your poll card"), code=ErrorCode.CODE_MISSING)
    code = code.strip()
    if rt.tokens.owns(VOTER_CODE, code):
        return await credential_from_token(rt, code)
    return rt.booth.credential(normalise_short_code(code))  # a typo is caught here


async def credential_from_token(rt: Runtime, token: str) -> CardCredential:
    payload = rt.booth.read_token(token)
    if len(payload) == LENGTH:  # a short code, normalised when we signed it
        return rt.booth.credential(payload)
    # A link printed before migration 0010 names the card's reference: legacy cards only.
    async with rt.db() as session:
        card = await find_by_reference(session, payload)
    if card is None or card.wrapped_secret is not None:
        raise CodeNotValid(UNKNOWN_CODE, code=ErrorCode.CODE_UNKNOWN)
    return CardCredential(card.short_digest, "", claim_of(rt.booth.key, payload))


async def card_for_code(rt: Runtime, code: Any) -> tuple[CardCredential, VoterCode]:
    """For pages, not the vote path: the credential and the card it names (CODE_UNKNOWN if none)."""
    credential = await credential_for_code(rt, code)
    async with rt.db() as session:
        card = await find_by_short_code(session, credential.digest)
    if card is None:
        raise CodeNotValid(UNKNOWN_CODE, code=ErrorCode.CODE_UNKNOWN)
    return credential, card
