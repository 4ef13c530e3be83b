"""Personal data in jury recruitment pools, sealed at rest.

A pool member's features (age band, sex, ethnicity, disability: protected characteristics) are
stored encrypted with AES-GCM under a key derived from BALLOT_KEY, a setting that never sits with
the database or its backups: a copy of the database alone cannot read them. The key rides on the
engine's dialect (set by polls.store.db.open_engine), so each engine seals with its own.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SEALED = "sealed"
_AAD = b"polls jury pool features v1"
_ATTRIBUTE = "polls_personal_data_key"


def attach_key(dialect: Dialect, ballot_key: str) -> None:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"polls personal data v1").derive(
        ballot_key.encode()
    )
    setattr(dialect, _ATTRIBUTE, AESGCM(key))


def _aead(dialect: Dialect) -> AESGCM:
    aead: AESGCM | None = getattr(dialect, _ATTRIBUTE, None)
    if aead is None:
        raise RuntimeError("personal data needs the ballot key: open the engine with settings.ballot_key")
    return aead


class SealedJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as {"sealed": base64(nonce + AES-GCM ciphertext)}. Rows written
    before sealing (plain objects) still read, and are sealed when next written."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        nonce = os.urandom(12)
        plain = json.dumps(value, sort_keys=True).encode()
        sealed = _aead(dialect).encrypt(nonce, plain, _AAD)
        return {SEALED: base64.b64encode(nonce + sealed).decode("ascii")}

    def process_result_value(self, value: Any, dialect: Dialect) -> dict[str, Any] | None:
        if not isinstance(value, dict) or set(value) != {SEALED}:
            return value  # type: ignore[no-any-return]
        raw = base64.b64decode(value[SEALED])
        opened: dict[str, Any] = json.loads(_aead(dialect).decrypt(raw[:12], raw[12:], _AAD))
        return opened
