"""The returning officer's key: voter secrets sealed to it, so a replacement card can take over a
lost card's secret, and only with the private key, which is kept off the servers.

Sealing is ECIES over X25519: one ephemeral key pair per batch of cards, and for each card a key
HKDF(shared secret, info = card reference) for AES-256-GCM, so each card's seal is independent
and a batch of 200,000 cards costs one key agreement. A sealed secret is
``ephemeral public key (32) | ciphertext and tag (48)``; a wrong private key fails the tag.

Keys are text with a visible prefix: ``ropk_`` + 64 hex digits for the public key (the pilot
stores it), ``rosk_`` + 64 hex digits for the private key (printed once, kept offline).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from polls.errors import ErrorCode, Forbidden, ValidationFailed

PUBLIC_PREFIX = "ropk_"
PRIVATE_PREFIX = "rosk_"
_INFO = b"polls.sealed-voter-secret.v1:"
_NONCE = bytes(12)  # each card's AES key is used once, so a fixed nonce is safe
_RAW = serialization.Encoding.Raw


def _raw_key(text: str, prefix: str, field: str, what: str, code: ErrorCode) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text.removeprefix(prefix)) if text.startswith(prefix) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValidationFailed.one(
            field, f"This is not {what}: it starts {prefix} and has 64 hex digits after", code=code
        )
    return raw


def parse_public_key(text: str, field: str = "officer_public_key") -> X25519PublicKey:
    raw = _raw_key(
        text, PUBLIC_PREFIX, field, "a returning officer's public key", ErrorCode.OFFICER_KEY_MALFORMED
    )
    return X25519PublicKey.from_public_bytes(raw)


def parse_private_key(text: str, field: str = "officer_key") -> X25519PrivateKey:
    if not text.strip():
        raise ValidationFailed.one(
            field,
            "Enter the returning officer's private key: a replacement card needs it",
            code=ErrorCode.OFFICER_KEY_MISSING,
        )
    raw = _raw_key(
        text, PRIVATE_PREFIX, field, "a returning officer's private key", ErrorCode.OFFICER_KEY_MALFORMED
    )
    return X25519PrivateKey.from_private_bytes(raw)


def public_text(key: X25519PublicKey) -> str:
    return PUBLIC_PREFIX + key.public_bytes(_RAW, serialization.PublicFormat.Raw).hex()


def private_text(key: X25519PrivateKey) -> str:
    return (
        PRIVATE_PREFIX
        + key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()).hex()
    )


def new_key_pair() -> tuple[str, str]:
    """(private, public) as text."""
    key = X25519PrivateKey.generate()
    return private_text(key), public_text(key.public_key())


def _card_key(shared: bytes, reference: str) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO + reference.encode())
    return AESGCM(hkdf.derive(shared))


class Sealer:
    """Seals voter secrets to one officer public key, one ephemeral key pair for all of them."""

    def __init__(self, public_key: str) -> None:
        ephemeral = X25519PrivateKey.generate()
        self._shared = ephemeral.exchange(parse_public_key(public_key))
        self._ephemeral = ephemeral.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)

    def seal(self, secret: bytes, reference: str) -> str:
        sealed = _card_key(self._shared, reference).encrypt(_NONCE, secret, reference.encode())
        return (self._ephemeral + sealed).hex()


def unseal(private_key: X25519PrivateKey, sealed_hex: str, reference: str) -> bytes:
    """The voter secret sealed for the card ``reference``; Forbidden for any other officer key."""
    sealed = bytes.fromhex(sealed_hex)
    shared = private_key.exchange(X25519PublicKey.from_public_bytes(sealed[:32]))
    try:
        return _card_key(shared, reference).decrypt(_NONCE, sealed[32:], reference.encode())
    except InvalidTag:
        raise Forbidden(
            "This is not the returning officer's key these cards were sealed to",
            code=ErrorCode.OFFICER_KEY_WRONG,
        ) from None
