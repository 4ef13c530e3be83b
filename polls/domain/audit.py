"""The audit log's hash chain: each entry commits to the one before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str  # ISO 8601, UTC
    actor: str
    pilot_id: int | None
    action: str
    target: str
    before: Any
    after: Any


def canonical(record: AuditRecord) -> bytes:
    return json.dumps(
        {
            "seq": record.seq,
            "at": record.at,
            "actor": record.actor,
            "pilot_id": record.pilot_id,
            "action": record.action,
            "target": record.target,
            "before": record.before,
            "after": record.after,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode()


def chain_hash(prev_hash: str, record: AuditRecord) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(record)).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


def verify_chain(entries: Iterable[tuple[AuditRecord, str, str]]) -> tuple[int, BrokenLink | None]:
    """Check (record, prev_hash, hash) triples in order; return how many were good and the first bad one."""
    expected_prev = GENESIS
    expected_seq = 1
    good = 0
    for record, prev_hash, stored_hash in entries:
        if record.seq != expected_seq:
            return good, BrokenLink(record.seq, f"expected entry {expected_seq}, found {record.seq}")
        if prev_hash != expected_prev:
            return good, BrokenLink(record.seq, "does not point at the previous entry's hash")
        if chain_hash(prev_hash, record) != stored_hash:
            return good, BrokenLink(record.seq, "content does not match its hash (edited)")
        expected_prev = stored_hash
        expected_seq += 1
        good += 1
    return good, None
