"""The demo pilot's returning officer's key pair, DEMO ONLY: the public key is stored like any
pilot's; the private key, which a real council keeps offline, is written to the data directory
so that whoever runs `polls dev` can try issuing a replacement card."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor
from polls.domain.officer_keys import new_key_pair, parse_private_key, public_text
from polls.store.models import Pilot
from polls.store.officer_keys import set_officer_key

FILE_NAME = "demo-returning-officer-key.txt"
_LABEL = """\
# DEMO ONLY: the demo pilot's returning officer's PRIVATE key.
# A real council keeps this key offline, never on a server (`polls officer-key new`).
# Enter it on the voter codes page (or `polls codes reissue --officer-key-file`) to replace a lost card.
"""


async def demo_officer_key(session: AsyncSession, officer: Actor, pilot_id: int, data_dir: Path) -> Path:
    """The file holding the demo's private key, made (with the pilot's public key) if need be."""
    path = data_dir / FILE_NAME
    pilot = await session.get(Pilot, pilot_id)
    assert pilot is not None
    if pilot.officer_public_key and path.exists() and _public_of(path) == pilot.officer_public_key:
        return path
    private, public = new_key_pair()
    await set_officer_key(session, officer, pilot_id, public)
    _write_private(path, private)
    return path


def _write_private(path: Path, private: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # readable by its owner only
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(_LABEL + private + "\n")


def _public_of(path: Path) -> str | None:
    try:
        private = path.read_text(encoding="utf-8").strip().splitlines()[-1]
        return public_text(parse_private_key(private).public_key())
    except Exception:  # unreadable or not a key: a new pair is made
        return None
