"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL,
and step down to the first revision and back up again."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from polls.store.migrate import alembic_config, upgrade
from polls.store.models import Base
from tests.conftest import in_thread


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_every_migration_steps_down_and_up_again(database_url: str) -> None:
    from alembic import command

    in_thread(lambda: command.downgrade(alembic_config(database_url), "0001"))
    in_thread(lambda: upgrade(database_url))
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()
