"""`polls audit verify`: check the audit log's hash chain; `polls audit show`: read it."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from polls.cli.db import database_settings
from polls.settings import Settings
from polls.store.audit import ChainReport


def add_parsers(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the audit log")
    audit.set_defaults(run=run)
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check the hash chain; report the first broken link")
    show = audit_commands.add_parser("show", help="the latest entries in plain words, newest first")
    show.add_argument("--pilot", type=int, help="only this pilot's entries")
    show.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")


def run(args: argparse.Namespace) -> int:
    if args.audit_command == "show":
        return _show(args)
    report = asyncio.run(_verify(database_settings()))
    if report.broken is not None:
        print(f"audit log BROKEN at entry {report.broken.seq}: {report.broken.reason}")
        print(f"({report.checked} entries before it are intact)")
        return 1
    if not report.head_matches:
        print(
            f"audit log BROKEN: {report.checked} entries chain correctly but the head does not match "
            "(entries were removed from the end)"
        )
        return 1
    print(f"audit log intact: {report.checked} entries verified")
    return 0


async def _verify(settings: Settings) -> ChainReport:
    from polls.store import audit
    from polls.store.db import open_engine, sessions_for

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine)() as session:
            return await audit.verify(session)
    finally:
        await engine.dispose()


def _show(args: argparse.Namespace) -> int:
    from polls.domain.audit_text import describe

    if args.limit < 1:
        print("--limit must be 1 or more")
        return 2
    for entry in asyncio.run(_recent(database_settings(), args.pilot, args.limit)):
        when = entry.at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{entry.seq:>6}  {when}  {entry.actor}  {describe(entry.action, entry.target, entry.after)}")
    return 0


async def _recent(settings: Settings, pilot_id: int | None, limit: int) -> list[Any]:
    from polls.store import audit
    from polls.store.db import open_engine, sessions_for

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine)() as session:
            return await audit.recent(session, pilot_id=pilot_id, limit=limit)
    finally:
        await engine.dispose()
