"""`polls tallies check|rebuild`: the live tallies in Redis against the ballots in the database."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from polls.settings import EMBEDDED, Settings, SettingsError, from_environment


def add_parsers(commands: Any) -> None:
    tallies = commands.add_parser("tallies", help="live tallies in Redis against the database")
    tallies.set_defaults(run=run)
    tally_commands = tallies.add_subparsers(dest="tallies_command", required=True)
    for name, text in (
        ("check", "compare Redis with the database; exit 1 and list differences if they disagree"),
        ("rebuild", "recompute the live tallies from the stored ballots"),
    ):
        one = tally_commands.add_parser(name, help=text)
        one.add_argument("--poll", type=int, help="one poll (default: every poll with ballots)")


def run(args: argparse.Namespace) -> int:
    settings = from_environment(production=False)
    redis_url = _redis_url(settings)
    return asyncio.run(_tallies(settings, redis_url, args.tallies_command, args.poll))


def _redis_url(settings: Settings) -> str:
    """REDIS_URL, or the socket of the embedded Redis that a running `polls dev` started."""
    if settings.redis_url != EMBEDDED:
        return settings.redis_url
    socket = (settings.data_dir / "redis" / "redis.sock").resolve()
    if not socket.exists():
        raise SettingsError("no Redis to talk to: start `polls dev` first, or set REDIS_URL")
    return f"unix://{socket}?db=0"


async def _tallies(settings: Settings, redis_url: str, command: str, poll_id: int | None) -> int:
    from sqlalchemy import select

    from polls.live.connect import connect
    from polls.live.tallies import Tallies
    from polls.store.db import open_engine, sessions_for
    from polls.store.models import Ballot

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    redis = connect(redis_url, decode_responses=True)
    try:
        db = sessions_for(engine)
        tallies = Tallies(redis, db)
        if poll_id is None:
            async with db() as session:
                poll_ids = list((await session.execute(select(Ballot.poll_id).distinct())).scalars())
        else:
            poll_ids = [poll_id]
        if command == "rebuild":
            rebuilt = await tallies.rebuild_all(poll_ids)
            if rebuilt is None:
                print("another instance is rebuilding the live tallies now; try again in a minute")
                return 1
            for one, ballots in rebuilt.items():
                print(f"poll {one}: rebuilt from {ballots} ballots")
            return 0
        disagree = 0
        for one in poll_ids:
            check = await tallies.check(one)
            if check.agrees:
                print(f"poll {one}: live tallies agree with the database ({check.ballots} ballots)")
                continue
            disagree += 1
            print(f"poll {one}: DIFFERENT from the database ({check.ballots} ballots stored)")
            for name, (live, stored) in check.differences.items():
                print(f"  {name}: redis {live}, database {stored}")
        if not poll_ids:
            print("no ballots yet")
        return 1 if disagree else 0
    finally:
        await redis.aclose()
        await engine.dispose()
