"""Applying the Alembic migrations that create and evolve the schema."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` up to ``revision`` (blocking; call before serving)."""
    command.upgrade(alembic_config(database_url), revision)


@functools.cache
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(r.revision for r in script.walk_revisions())


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; None before the first migration."""
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception:
        return None
    return None if found is None else str(found)


def schema_verdict(current: str | None) -> str:
    """ "ok" at the head; "newer" past it (during a rolling upgrade the old instances keep running
    after the new migration has been applied); otherwise what to do about it."""
    head = head_revision()
    if current == head:
        return "ok"
    if current is not None and current not in known_revisions():
        return "newer"
    return f"at {current or 'nothing'}, expected {head}: run `polls db upgrade`"
