"""`polls staff create`: a staff account, made from the command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from polls.cli.db import database_settings
from polls.settings import Settings


def add_parsers(commands: Any) -> None:
    staff = commands.add_parser("staff", help="staff accounts")
    staff.set_defaults(run=run)
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    create = staff_commands.add_parser("create", help="create a staff account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--site-admin", action="store_true", help="may create pilots and manage all of them")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def run(args: argparse.Namespace) -> int:
    return staff_create(args.email, args.name, args.site_admin, args.password_stdin)


def staff_create(email: str, name: str, site_admin: bool, password_stdin: bool) -> int:
    from polls.errors import PollsError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (12 characters or more): ")
        if password != getpass.getpass("Same password again: "):
            print("polls: the passwords are different", file=sys.stderr)
            return 2
    settings = database_settings()
    try:
        staff_id = asyncio.run(_create_staff(settings, email, name, password, site_admin))
    except PollsError as exc:
        print(f"polls: {exc.message}", file=sys.stderr)
        return 2
    print(f"created staff account {staff_id} for {email}{' (site admin)' if site_admin else ''}")
    return 0


async def _create_staff(settings: Settings, email: str, name: str, password: str, site_admin: bool) -> int:
    from polls.store.db import open_engine, sessions_for
    from polls.store.staff import create_staff

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            staff = await create_staff(
                session,
                email=email,
                name=name,
                password=password,
                site_admin=site_admin,
                actor="cli:staff-create",
            )
            return staff.id
    finally:
        await engine.dispose()
