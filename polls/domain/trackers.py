"""Ballot trackers: the receipt a voter keeps to find their ballot in the public list.

A tracker is 100 bits of a salted hash of the ballot (sha256 of 16 random bytes and the ballot;
the salt is thrown away), written as five groups of four characters from the poll cards'
alphabet (no I, L, O or U), so a person can read it out or copy it down: ``7KQ4-M2XD-9HBT-R3PZ-
0W5N``. It is as random as the 64-character form it replaced, so the sorted public list still
says nothing of the ballots' order or time, and 100 bits keep trackers apart (two ballots share
one with a chance of about 1 in 10^12 among a million). Receipts of the old form still look up.
"""

from __future__ import annotations

import re

from polls.domain.codes import ALPHABET

GROUPS, GROUP = 5, 4
BITS = GROUPS * GROUP * 5
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—.]+")
_OLD_FORM = re.compile(r"[0-9a-fA-F]{64}")


def tracker_from_digest(digest: bytes) -> str:
    """The tracker of a salted hash's first 100 bits."""
    bits = int.from_bytes(digest[: (BITS + 7) // 8], "big") >> (8 * ((BITS + 7) // 8) - BITS)
    chars = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(GROUPS * GROUP)))
    return "-".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))


def normalise_tracker(typed: str) -> str:
    """A receipt as typed or pasted (any case, with or without dashes or spaces, look-alike
    letters) in the form it is listed in; what cannot be a tracker comes back trimmed."""
    text = typed.strip()
    if _OLD_FORM.fullmatch(text):
        return text.lower()
    chars = _SEPARATORS.sub("", text).upper().translate(_LOOK_ALIKES)
    if len(chars) == GROUPS * GROUP and all(c in ALPHABET for c in chars):
        return "-".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))
    return text[:100]
