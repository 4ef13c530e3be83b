"""`polls bench ...`: the benchmarks (votes a second, counting, sortition, a jury room's fan-out,
messages to residents)."""

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
    bench_commands.add_parser("count", help="counting methods against pref_voting and pabutools")
    bench_commands.add_parser("sortition", help="leximin panel lotteries: probabilities and times")
    jury = bench_commands.add_parser("jury", help="a moderator's event reaching 2,000 websocket clients")
    jury.add_argument("--observers", type=int, default=2000)
    jury.add_argument("--rounds", type=int, default=30)
    messages = bench_commands.add_parser("messages", help="results messages to many residents over SMTP")
    messages.add_argument("--subscribers", type=_at_least_one, default=50_000)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def run(args: argparse.Namespace) -> int:
    if args.bench_command == "count":
        from polls.bench import count

        print(count.report(count.run()))
    elif args.bench_command == "jury":
        from polls.bench import jury

        print(jury.report(jury.run(observers=args.observers, rounds=args.rounds)))
    elif args.bench_command == "messages":
        from polls.bench import messages

        print(messages.report(messages.run(subscribers=args.subscribers)))
    elif args.bench_command == "sortition":
        from polls.bench import sortition

        print(sortition.report(sortition.run()))
    else:
        from polls.bench import votes

        figures = votes.run(votes=args.voters, concurrency=args.concurrency, rounds=args.rounds)
        print(votes.report(figures))
    return 0
