"""`polls bench ...`: the benchmarks (votes a second, closing a poll, counting, sortition, a jury
room's fan-out, suggested themes in written responses, pages on a slow phone, messages to residents)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parsers(commands: Any) -> None:
    bench = commands.add_parser("bench", help="benchmarks")
    bench.set_defaults(run=run)
    bench_commands = bench.add_subparsers(dest="bench_command", required=True)
    votes = bench_commands.add_parser("votes", help="votes per second against a bare Starlette endpoint")
    votes.add_argument("--voters", type=_at_least_one, default=30_000)
    votes.add_argument("--concurrency", type=_at_least_one, default=200)
    votes.add_argument("--rounds", type=_at_least_one, default=3, help="app-then-bare rounds (default 3)")
    votes.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="sqlite: the embedded set-up, one instance; postgresql: its own PostgreSQL cluster, "
        "a redis-server and N `polls serve` instances",
    )
    votes.add_argument(
        "--instances", type=_at_least_one, help="app instances on PostgreSQL (default 2; SQLite runs 1)"
    )
    close = bench_commands.add_parser("close", help="closing a poll of a million ballots: time and memory")
    close.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    close.add_argument("--ballots", type=_at_least_one, default=1_000_000)
    bench_commands.add_parser("count", help="counting methods against pref_voting and pabutools")
    bench_commands.add_parser("sortition", help="leximin panel lotteries: probabilities and times")
    analysis = bench_commands.add_parser("analysis", help="suggested themes for 10,000 written responses")
    analysis.add_argument("--responses", type=_at_least_one, default=10_000)
    jury = bench_commands.add_parser("jury", help="a moderator's event reaching 2,000 websocket clients")
    jury.add_argument("--observers", type=int, default=2000)
    jury.add_argument("--rounds", type=int, default=30)
    bench_commands.add_parser(
        "pages", help="resident pages on emulated Fast 3G: bytes transferred and first paint (Chromium)"
    )
    messages = bench_commands.add_parser("messages", help="results messages to many residents over SMTP")
    messages.add_argument("--subscribers", type=_at_least_one, default=50_000)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def run(args: argparse.Namespace) -> int:
    if args.bench_command == "close":
        from polls.bench import close

        print(close.report(close.run(ballots=args.ballots, database=args.database)))
    elif args.bench_command == "analysis":
        from polls.bench import analysis

        print(analysis.report(analysis.run(count=args.responses)))
    elif args.bench_command == "count":
        from polls.bench import count

        print(count.report(count.run()))
    elif args.bench_command == "jury":
        from polls.bench import jury

        print(jury.report(jury.run(observers=args.observers, rounds=args.rounds)))
    elif args.bench_command == "pages":
        from polls.bench import pages

        print(pages.report(pages.run()))
    elif args.bench_command == "messages":
        from polls.bench import messages

        print(messages.report(messages.run(subscribers=args.subscribers)))
    elif args.bench_command == "sortition":
        from polls.bench import sortition

        print(sortition.report(sortition.run()))
    else:
        from polls.bench import votes

        if args.database == "sqlite" and args.instances not in (None, 1):
            print(
                "polls bench votes: the embedded SQLite set-up runs one instance; use --database postgresql"
            )
            return 2
        figures = votes.run(
            votes=args.voters,
            concurrency=args.concurrency,
            rounds=args.rounds,
            database=args.database,
            instances=args.instances,
        )
        print(votes.report(figures))
    return 0
