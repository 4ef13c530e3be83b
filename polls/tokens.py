"""Every signed token the service issues, in one place.

Each kind has its own salt (so a token of one kind is never accepted as another), a visible
prefix (so people and logs can tell them apart) and a maximum age. Keys rotate through
SECRET_KEYS: the newest signs, every listed key verifies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, Signer, URLSafeTimedSerializer


@dataclass(frozen=True)
class TokenKind:
    prefix: str
    salt: str
    max_age: int  # seconds


STAFF_SESSION = TokenKind("ss_", "polls.staff-session.v1", 12 * 3600)
STAFF_INVITE = TokenKind("si_", "polls.staff-invite.v1", 7 * 24 * 3600)
# "Forgot my password": payload {"s": staff id, "f": password fingerprint}, so setting a new
# password spends it (single use); short-lived, since it arrives by email.
PASSWORD_RESET = TokenKind("pr_", "polls.password-reset.v1", 3600)
# The voting link on a poll card; its payload is the card's short code (the server needs the code
# to unwrap the card's voter secret). Links printed before migration 0010 carry the reference.
VOTER_CODE = TokenKind("vc_", "polls.voter-code.v1", 400 * 24 * 3600)
# A juror invitation: payload {"j": juror id, "n": invitation nonce}; single use (the nonce is
# spent when the person accepts or declines) and it expires before the jury meets.
JUROR_INVITE = TokenKind("ji_", "polls.juror-invite.v1", 21 * 24 * 3600)
# A juror's own link into the jury room, given once they accept: payload {"j": juror id, "n": nonce}.
JUROR_ROOM = TokenKind("jr_", "polls.juror-room.v1", 180 * 24 * 3600)


class TokenInvalid(Exception):
    """Forged, malformed, of another kind, or signed by a key we no longer hold."""


class TokenExpired(TokenInvalid):
    pass


class _Serializer(URLSafeTimedSerializer):
    """Keeps its signer: itsdangerous builds a new one (re-reading every key) on each call, a
    noticeable cost on the vote path, where every ballot verifies a token."""

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        cache: dict[str | bytes | None, Signer] = self.__dict__.setdefault("_signers", {})
        signer = cache.get(salt)
        if signer is None:
            signer = cache[salt] = super().make_signer(salt)
        return signer


class Tokens:
    def __init__(self, secret_keys: tuple[str, ...]) -> None:
        self._keys = list(secret_keys)
        self._serializers: dict[str, _Serializer] = {}

    def _serializer(self, kind: TokenKind) -> _Serializer:
        serializer = self._serializers.get(kind.salt)
        if serializer is None:
            serializer = self._serializers[kind.salt] = _Serializer(self._keys, salt=kind.salt)
        return serializer

    def sign(self, kind: TokenKind, payload: Any) -> str:
        return kind.prefix + self._serializer(kind).dumps(payload)

    def owns(self, kind: TokenKind, token: str) -> bool:
        """Is this token of ``kind`` at all? Lets handlers say "not mine" to foreign tokens."""
        return token.startswith(kind.prefix)

    def read(self, kind: TokenKind, token: str) -> Any:
        if not self.owns(kind, token):
            raise TokenInvalid("not a token of this kind")
        try:
            return self._serializer(kind).loads(token[len(kind.prefix) :], max_age=kind.max_age)
        except SignatureExpired as exc:
            raise TokenExpired("the link has expired") from exc
        except BadSignature as exc:
            raise TokenInvalid("the signature does not match") from exc


def password_fingerprint(password_hash: str) -> str:
    """Changes whenever the password does: sessions and invitations carry it, so a new
    password signs out old sessions and spends the invitation that set it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]
