"""Voter codes as people see them: short codes to type from a poll card, and opaque references.

A short code is 13 random characters of Crockford's base 32 (65 bits) and one check character
(Luhn mod N, N = 32), so a mistyped character is caught before any lookup. Luhn mod N misses
one adjacent transposition, "0Z" <-> "Z0" (as decimal Luhn misses "09" <-> "90"); codes that
contain that pair next to each other are never issued, which costs under 0.04 bits, so every
adjacent transposition of an issued code is caught as well.
"""

from __future__ import annotations

import re
import secrets

from polls.errors import ErrorCode, ValidationFailed

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
N = len(ALPHABET)
PAYLOAD_LENGTH = 13  # 13 * 5 = 65 random bits
LENGTH = PAYLOAD_LENGTH + 1
REFERENCE_LENGTH = 20  # 100 random bits

_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Letters people type for the ones that look alike on paper.
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—.]+")
_MISSED_TRANSPOSITION = ("0Z", "Z0")


def check_character(payload: str) -> str:
    """The Luhn mod N check character for ``payload`` (characters of ALPHABET)."""
    total = 0
    factor = 2  # the rightmost payload character is doubled
    for char in reversed(payload):
        addend = factor * _VALUE[char]
        total += addend // N + addend % N
        factor = 3 - factor
    return ALPHABET[(N - total % N) % N]


def is_check_valid(code: str) -> bool:
    """Does the last character of ``code`` check the rest (Luhn mod N)?"""
    total = 0
    factor = 1  # the check character itself is not doubled
    for char in reversed(code):
        addend = factor * _VALUE[char]
        total += addend // N + addend % N
        factor = 3 - factor
    return total % N == 0


def _encode(bits: int, length: int) -> str:
    return "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(length)))


def short_code_from_bits(bits: int) -> str:
    """The code (payload and check character) for a 65-bit number; it may not be issuable."""
    payload = _encode(bits, PAYLOAD_LENGTH)
    return payload + check_character(payload)


def is_issuable(code: str) -> bool:
    """False for codes whose "0Z"/"Z0" swap the check character would not notice."""
    return not any(pair in code for pair in _MISSED_TRANSPOSITION)


def new_short_code() -> str:
    """A fresh random short code, normalised (14 characters, no separators)."""
    while True:
        code = short_code_from_bits(secrets.randbits(5 * PAYLOAD_LENGTH))
        if is_issuable(code):
            return code


def format_short_code(code: str) -> str:
    """``XXXX-XXXX-XXXX-XX``: groups of four are easier to read out and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_short_code(typed: str) -> str:
    """The code as stored: upper case, no spaces or hyphens, look-alike letters mapped.

    Raises ValidationFailed (field ``code``) for a wrong length, a character that is in no
    code, or a typo the check character reveals.
    """
    code = _SEPARATORS.sub("", typed).upper().translate(_LOOK_ALIKES)
    if not code:
        raise ValidationFailed.one("code", "Enter the code from your poll card", code=ErrorCode.CODE_MISSING)
    strange = sorted({c for c in code if c not in _VALUE})
    if strange:
        shown = ", ".join(f"“{c}”" for c in strange)
        raise ValidationFailed.one(
            "code",
            f"Codes only use the numbers 0 to 9 and the letters A to Z without U; check {shown}",
            code=ErrorCode.CODE_TYPO,
        )
    if len(code) != LENGTH:
        raise ValidationFailed.one(
            "code",
            f"The code on your poll card has {LENGTH} letters and numbers; you entered {len(code)}",
            code=ErrorCode.CODE_TYPO,
        )
    if not is_check_valid(code):
        raise ValidationFailed.one(
            "code",
            "This code has a typo: check each character against your poll card",
            code=ErrorCode.CODE_TYPO,
        )
    return code


def new_reference() -> str:
    """An opaque voter reference: random, it names no person and encodes nothing."""
    return _encode(secrets.randbits(5 * REFERENCE_LENGTH), REFERENCE_LENGTH)
