"""`polls officer-key ...`: make a returning officer's key pair, and set a pilot's public key."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from polls.cli.db import database_settings
from polls.domain.access import Actor

KEEP_OFFLINE = """\
Returning officer's key pair. The PRIVATE key is shown only now: keep it offline (printed and
sealed, or on a removable drive in a safe), never on the servers. It is needed only to issue a
replacement for a lost poll card; whoever holds it and the database can tie replaced cards to
their votes.

  private key (keep offline): {private}
  public key (give to polls): {public}

Set the public key with: polls officer-key set --pilot ID {public}
"""


def add_parsers(commands: Any) -> None:
    group = commands.add_parser("officer-key", help="the returning officer's key pair for poll cards")
    group.set_defaults(run=run)
    keys = group.add_subparsers(dest="officer_key_command", required=True)
    keys.add_parser("new", help="make a key pair; prints the private key once, to keep offline")
    set_key = keys.add_parser("set", help="set a pilot's returning officer's public key")
    set_key.add_argument("--pilot", type=int, required=True, help="the pilot's id")
    set_key.add_argument("public_key", help="the public key (ropk_...)")


def run(args: argparse.Namespace) -> int:
    from polls.domain.officer_keys import new_key_pair
    from polls.errors import PollsError

    if args.officer_key_command == "new":
        private, public = new_key_pair()
        print(KEEP_OFFLINE.format(private=private, public=public))
        return 0
    try:
        asyncio.run(_set(args.pilot, args.public_key))
    except PollsError as exc:
        print(f"polls: {exc.message}", file=sys.stderr)
        return 2
    print(f"pilot {args.pilot}: new poll cards are sealed to {args.public_key.strip()}")
    return 0


async def _set(pilot_id: int, public_key: str) -> None:
    from polls.store.db import open_engine, sessions_for
    from polls.store.officer_keys import set_officer_key

    settings = database_settings()
    actor = Actor(staff_id=0, email="cli:officer-key", name="command line", is_site_admin=True)
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            await set_officer_key(session, actor, pilot_id, public_key)
    finally:
        await engine.dispose()
