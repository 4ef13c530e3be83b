"""Every signed token the service issues, in one place.

Each kind has its own salt (so a token of one kind is never accepted as another), a visible
prefix (so people and logs can tell them apart) and a maximum age. Keys rotate through
SECRET_KEYS: the newest signs, every listed key verifies.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import time
import zlib
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, Signer, URLSafeTimedSerializer


@dataclass(frozen=True)
class TokenKind:
    prefix: str
    salt: str
    max_age: int  # seconds


STAFF_SESSION = TokenKind("ss_", "polls.staff-session.v1", 12 * 3600)
# A browser someone has signed in from: payload {"a": account digest}. Its holder skips the back-off
# that other people's wrong guesses put on the account (polls.live.throttle).
STAFF_DEVICE = TokenKind("sd_", "polls.staff-device.v1", 180 * 24 * 3600)
STAFF_INVITE = TokenKind("si_", "polls.staff-invite.v1", 7 * 24 * 3600)
# "Forgot my password": payload {"s": staff id, "f": password fingerprint}, so setting a new
# password spends it (single use); short-lived, since it arrives by email.
PASSWORD_RESET = TokenKind("pr_", "polls.password-reset.v1", 3600)
# A one-time sign-in link for a locked-out officer: payload {"s": staff id, "f": sign-in fingerprint}
# (polls.store.sign_ins.link_fingerprint), which the sign-in it starts changes, so it works once.
SIGN_IN_LINK = TokenKind("sl_", "polls.sign-in-link.v1", 15 * 60)
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

    def quick_loads(self, token: str, max_age: int) -> Any:
        """The usual token read without itsdangerous's layers (under half the CPU, on the vote
        path): its payload when it is in date and signed under this salt by one of our keys, else
        None, and ``loads`` decides and says why. It accepts nothing ``loads`` would refuse: the
        same derived keys and HMAC-SHA1, compared in constant time, the same age limits."""
        signer = self.make_signer(self.salt)
        if signer.digest_method is not Signer.default_digest_method:
            return None
        keys: list[bytes] | None = self.__dict__.get("_derived")
        if keys is None:  # newest first, as itsdangerous tries them
            keys = self.__dict__["_derived"] = [signer.derive_key(k) for k in reversed(signer.secret_keys)]
        try:
            signed, _, signature = token.rpartition(".")
            compressed = signed.startswith(".")  # itsdangerous zips a payload when that is shorter
            payload, _, stamp = signed[compressed:].partition(".")
            if not payload or not stamp or "." in stamp:
                return None
            value, given = signed.encode(), signature.encode()
            for key in keys:  # OpenSSL's one-shot HMAC (itsdangerous's falls back to pure Python)
                if hmac.compare_digest(given, _unpadded_b64encode(hmac.digest(key, value, "sha1"))):
                    break
            else:
                return None
            age = int(time.time()) - int.from_bytes(_unpadded_b64(stamp), "big")
            if not 0 <= age <= max_age:
                return None
            data = _unpadded_b64(payload)
            return json.loads(zlib.decompress(data) if compressed else data)
        except (ValueError, binascii.Error, zlib.error):
            return None


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _unpadded_b64encode(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=")


def _unpadded_b64(text: str) -> bytes:
    """As itsdangerous decodes (base64.urlsafe_b64decode, padded), without its call layers."""
    return binascii.a2b_base64(text.encode().translate(_FROM_URLSAFE) + b"=" * (-len(text) % 4))


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
        serializer = self._serializer(kind)
        body = token[len(kind.prefix) :]
        payload = serializer.quick_loads(body, kind.max_age)
        if payload is not None:
            return payload
        try:
            return serializer.loads(body, max_age=kind.max_age)
        except SignatureExpired as exc:
            raise TokenExpired("the link has expired") from exc
        except BadSignature as exc:
            raise TokenInvalid("the signature does not match") from exc


def password_fingerprint(password_hash: str) -> str:
    """Changes whenever the password does: sessions and invitations carry it, so a new
    password signs out old sessions and spends the invitation that set it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]
