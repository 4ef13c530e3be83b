"""`polls retention run|set` and `polls personal-data export`: personal data in jury pools."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from polls.cli.db import database_settings
from polls.domain.access import Actor
from polls.settings import Settings


def add_parsers(commands: Any) -> None:
    retention = commands.add_parser("retention", help="erase jury pools' personal data when it is due")
    retention.set_defaults(run=run)
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    retention_commands.add_parser(
        "run", help="erase every pool whose jury reported longer ago than its pilot keeps"
    )
    keep = retention_commands.add_parser(
        "set", help="days a pilot keeps a pool's personal data after its jury reports"
    )
    keep.add_argument("--pilot", type=int, required=True)
    keep.add_argument("--days", type=int, required=True)
    person = commands.add_parser("personal-data", help="one person's data in a jury pool")
    person.set_defaults(run=run)
    person_commands = person.add_subparsers(dest="personal_data_command", required=True)
    export = person_commands.add_parser(
        "export", help="everything a jury's pool holds about one person, as JSON"
    )
    export.add_argument("--jury", type=int, required=True)
    export.add_argument("--person", required=True, help="the id the council's pool file gave them")


def run(args: argparse.Namespace) -> int:
    from polls.errors import PollsError

    settings = database_settings()
    try:
        return asyncio.run(_run(settings, args))
    except (PollsError, ValueError) as exc:
        print(f"polls: {exc}", file=sys.stderr)
        return 1


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from polls.store import personal_data
    from polls.store.db import open_engine, sessions_for

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            if args.command == "personal-data":
                held = await personal_data.export_person(session, _actor("export"), args.jury, args.person)
                print(json.dumps(held, indent=2, ensure_ascii=False))
            elif args.retention_command == "set":
                await personal_data.set_retention(session, _actor("retention"), args.pilot, args.days)
                print(f"pilot {args.pilot}: jury pools' personal data kept {args.days} days after the report")
            else:
                erased = await personal_data.erase_due(session)
                for one in erased:
                    print(f"jury {one.jury_id}: personal data of {one.people} people erased")
                print(f"{len(erased)} pools erased")
    finally:
        await engine.dispose()
    return 0


def _actor(command: str) -> Actor:
    return Actor(staff_id=0, email=f"cli:{command}", name="command line", is_site_admin=True)
