"""`polls db upgrade`, and the database the commands that only touch the database work on."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from polls.settings import Settings, from_environment


def add_parsers(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema")
    db.set_defaults(run=run)
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations (DATABASE_URL, else the dev SQLite file)")


def run(args: argparse.Namespace) -> int:
    from polls.store.migrate import upgrade

    settings = database_settings()
    upgrade(settings.database_url)
    print("database schema is up to date")
    return 0


def database_settings() -> Settings:
    """Commands that only touch the database: DATABASE_URL if set, else the development file.

    Which one is always said, so a missing DATABASE_URL in production cannot go unnoticed.
    """
    import os

    from sqlalchemy.engine import make_url

    settings = from_environment(production=False)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    if os.environ.get("DATABASE_URL"):
        print(f"polls: database {shown}", file=sys.stderr)
    else:
        print(f"polls: DATABASE_URL is not set; using the development database {shown}", file=sys.stderr)
    return settings
