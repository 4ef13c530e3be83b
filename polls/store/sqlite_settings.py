"""How every SQLite connection we open is set up, through SQLAlchemy or not (the ballot writer
process opens its own without SQLAlchemy)."""

from __future__ import annotations

from typing import Any


def configure_sqlite(connection: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before we acknowledge it (group commit keeps this cheap).
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Deleted content is overwritten with zeros, so free pages keep nothing a reader could find.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
