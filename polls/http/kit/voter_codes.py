"""A voter's code, from a voting link or typed off a poll card, read as the card's opaque reference."""

from __future__ import annotations

from typing import Any

from polls.domain.codes import normalise_short_code
from polls.errors import CodeNotValid, ErrorCode
from polls.runtime import Runtime
from polls.store.codes import ballot_key, find_by_short_code
from polls.tokens import VOTER_CODE


async def reference_for_code(rt: Runtime, code: Any) -> str:
    """A voting link token (vc_...) or a typed short code, as the opaque voter reference."""
    if not isinstance(code, str) or not code.strip():
        raise CodeNotValid("Enter the code from your poll card", code=ErrorCode.CODE_MISSING)
    code = code.strip()
    if rt.tokens.owns(VOTER_CODE, code):
        return rt.booth.reference_from_token(code)
    normalised = normalise_short_code(code)  # a typo is caught here, before any lookup
    async with rt.db() as session:
        found = await find_by_short_code(session, await ballot_key(session), normalised)
    if found is None:
        raise CodeNotValid(
            "We do not recognise this code. Check it against your poll card.", code=ErrorCode.CODE_UNKNOWN
        )
    return found.reference
