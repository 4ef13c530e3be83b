"""Voter secrets: what joins a card's votes to each other (the nullifier) without the service
being able to join them to the card.

Each poll card has a random voter secret ``s``; the nullifier of its vote in a poll is
HMAC(s, poll). The service stores ``s`` only wrapped under a key made from the card's own code
(so only whoever holds the card unwraps it) and sealed to the returning officer's public key
(polls.domain.officer_keys: for a replacement card). Neither the service's keys nor its storage
give ``s``: linking a card to its ballot needs the code, or the officer's key kept off the servers.

The wrap is a one-time pad from HMAC(code): each code is random and wraps exactly one secret,
so the pad is never used twice, and unwrapping costs one HMAC per vote (no slow KDF on the vote
path: a code's 65 random bits are what an attacker must guess; see docs/ballot-secrecy.md).

Imported by the SQLite writer process: the standard library only.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

SECRET_BYTES = 32
_WRAP = b"polls.voter-secret.wrap.v1"


@dataclass(frozen=True)
class CardCredential:
    """What a vote carries from the code on a card (the code itself goes no further)."""

    digest: str  # the card's short_digest: finds its row
    unwrap: str  # hex: the pad that unwraps the card's voter secret
    claim: bytes  # keys the Redis fast path; only the code gives it (for a card: the pad itself)


def short_digest(key: bytes, normalised_code: str) -> str:
    """What is stored about a short code: HMAC-SHA256, so a copy of the table reveals no code."""
    return hmac.digest(key, normalised_code.encode(), "sha256").hex()


def code_pad(normalised_code: str) -> bytes:
    """The pad that wraps the voter secret of the card with this code."""
    return hmac.digest(normalised_code.encode(), _WRAP, "sha256")


def card_credential(key: bytes, normalised_code: str) -> CardCredential:
    """Two HMACs: the digest (with the service's key) and the pad (with the code alone). The pad
    also keys the card's Redis claims: storage and keys without the code give neither."""
    pad = code_pad(normalised_code)
    return CardCredential(digest=short_digest(key, normalised_code), unwrap=pad.hex(), claim=pad)


def claim_of(key: bytes, secret_text: str) -> bytes:
    """What keys a card's (or a browser's) Redis claims: from the code, never from storage."""
    return hmac.digest(key, b"claim:" + secret_text.encode(), "sha256")


def new_voter_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def wrap(secret: bytes, pad: bytes) -> str:
    """The voter secret as stored: XORed with the card's pad."""
    return bytes(a ^ b for a, b in zip(secret, pad, strict=True)).hex()


def unwrap_secret(wrapped: str, unwrap: str) -> bytes:
    """The voter secret: the stored value XORed with the pad (both hex, 32 bytes)."""
    return (int(wrapped, 16) ^ int(unwrap, 16)).to_bytes(SECRET_BYTES, "big")


def card_nullifier(secret: bytes, poll_id: int) -> str:
    """Spends a voter secret in one poll; a replacement card has the same secret, so the same value."""
    return hmac.digest(secret, f"poll:{poll_id}".encode(), "sha256").hex()


def claim_key(claim: bytes, poll_id: int) -> bytes:
    """The card's Redis fast-path key in one poll: not computable from storage and keys alone.
    Bytes, as redis-py sends them (a str is encoded on each of the two calls that use it)."""
    poll = str(poll_id).encode()
    return b"spent:" + poll + b":" + hmac.digest(claim, poll, "sha256").hex().encode()
