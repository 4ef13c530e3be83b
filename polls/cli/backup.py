"""`polls backup PATH` and `polls restore PATH`: the database to a file and back (deploy/RUNBOOK.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from polls.cli.db import database_settings

KEYS_APART = (
    "The copy holds no key. Keep BALLOT_KEY, SECRET_KEYS and the returning officer's private key "
    "apart from it: never in the same place."
)


def add_parsers(commands: Any) -> None:
    backup = commands.add_parser(
        "backup", help="copy the database to a file (pg_dump, or SQLite's backup API)"
    )
    backup.add_argument("path", type=Path)
    backup.add_argument("--force", action="store_true", help="overwrite an existing file")
    backup.set_defaults(run=run)
    restore = commands.add_parser("restore", help="put a backup into the database (stop the service first)")
    restore.add_argument("path", type=Path)
    restore.add_argument("--replace", action="store_true", help="overwrite a database that holds data")
    restore.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from polls.store.backup import BackupError, backup, restore

    settings = database_settings()
    try:
        if args.command == "backup":
            if args.path.exists() and not args.force:
                print(f"polls: {args.path} exists; pass --force to overwrite it", file=sys.stderr)
                return 1
            backup(settings.database_url, args.path)
            print(f"backed up to {args.path} ({args.path.stat().st_size:,} bytes). {KEYS_APART}")
        else:
            restore(settings.database_url, args.path, replace=args.replace)
            print(
                f"restored {args.path}. Next: `polls db upgrade` (if this release is newer), "
                "`polls audit verify`, and `polls tallies rebuild` for the live tallies."
            )
    except BackupError as exc:
        print(f"polls: {exc}", file=sys.stderr)
        return 1
    return 0
