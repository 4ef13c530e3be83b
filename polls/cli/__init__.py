"""The `polls` command: its parser, assembled from one module per command group."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from polls.cli import (
    audit,
    backup,
    bench,
    codes,
    count,
    db,
    jury,
    officer_key,
    retention,
    serve,
    staff,
    tallies,
)
from polls.settings import SettingsError

# In the order `polls --help` lists them. Each module adds its commands with add_parsers and
# runs them with run(args), which every one of its parsers names as its default `run`.
GROUPS = (serve, db, backup, staff, audit, codes, officer_key, tallies, bench, count, jury, retention)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polls", description="Participatory democracy polling service")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        result: int = args.run(args)
        return result
    except SettingsError as exc:
        print(f"polls: configuration problem: {exc}", file=sys.stderr)
        return 2
