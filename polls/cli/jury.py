"""`polls jury ...`: the fairest panel lottery for a citizens' jury, its draw, and checking a draw.

    polls jury lottery --people P.csv --categories C.csv --size K [--households] --out lottery.json
    polls jury draw --lottery lottery.json --seed SEED --randomness R.json --reveal TEXT ... [--reserves N]
    polls jury draw --verify --lottery lottery.json --seed SEED --draw draw.json --randomness R.json
                    [--people P.csv ...]

``--randomness`` is the source of public randomness published with the lottery (a public jury
page's randomness.json); ``--reveal`` is what each committed person revealed at the draw, in the
published order (or, for a named lottery draw, its numbers).

Exit status: 0 done (or verified), 1 a draw that does not verify, 2 unusable input, 3 the solver
failed (a bug: please report it with the input files).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from polls.domain.sortition import (
    DrawRecord,
    Lottery,
    Pool,
    SolveProgress,
    commitment,
    draw,
    fairest_lottery,
    group_pool,
    make_lottery,
    new_seed,
    read_categories,
    read_draw,
    read_lottery,
    read_people,
    unfair_probabilities,
    verify,
)
from polls.domain.sortition.randomness import describe, public_value, read_source
from polls.domain.sortition.solver import SolverFailed
from polls.domain.spreadsheets import spreadsheet_safe as safe
from polls.errors import RandomnessMismatch, SortitionError, ValidationFailed


def add_parsers(commands: Any) -> None:
    jury = commands.add_parser("jury", help="select a citizens' jury by lot")
    jury.set_defaults(run=run)
    jury_commands = jury.add_subparsers(dest="jury_command", required=True)

    lottery = jury_commands.add_parser(
        "lottery", help="compute the fairest panel lottery, everyone's probability and a seed commitment"
    )
    _pool_arguments(lottery, required=True)
    lottery.add_argument("--size", type=int, required=True, help="how many people sit on the panel")
    lottery.add_argument("--out", type=Path, required=True, help="the lottery file to publish (JSON)")
    lottery.add_argument(
        "--seed-out", type=Path, help="where to keep the secret seed until the draw (default: OUT with .seed)"
    )
    lottery.add_argument("--probabilities", type=Path, help="also write everyone's probability here (CSV)")

    one = jury_commands.add_parser("draw", help="draw the panel and reserves, or --verify a published draw")
    one.add_argument("--lottery", type=Path, required=True, help="the published lottery file")
    seed = one.add_mutually_exclusive_group(required=True)
    seed.add_argument("--seed", help="the seed, revealed at the draw")
    seed.add_argument("--seed-file", type=Path, help="read the seed from this file")
    one.add_argument("--reserves", type=int, default=0, help="how many reserves to draw, in order")
    one.add_argument(
        "--randomness", type=Path, help="the source of public randomness published with the lottery (JSON)"
    )
    one.add_argument(
        "--reveal",
        action="append",
        default=[],
        help="what one committed person revealed (repeat, in the published order), or the lottery's numbers",
    )
    one.add_argument("--out", type=Path, help="write the draw record here (default: standard output)")
    one.add_argument("--verify", action="store_true", help="re-run a published draw and compare")
    one.add_argument("--draw", type=Path, help="with --verify: the published draw record")
    one.add_argument(
        "--recompute",
        action="store_true",
        help="with --verify: also recompute the fairest probabilities and compare",
    )
    _pool_arguments(one, required=False)


def _pool_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    also = "" if required else " (with --verify: check the lottery was made from it)"
    parser.add_argument("--people", type=Path, required=required, help=f"the recruitment pool (CSV){also}")
    parser.add_argument(
        "--categories", type=Path, required=required, help=f"category,feature,min,max (CSV){also}"
    )
    parser.add_argument("--id-column", help="the people file's id column (default: 'id', else the first)")
    if required:
        parser.add_argument("--households", action="store_true", help="at most one person per household")
    parser.add_argument(
        "--household-columns",
        help="comma-separated columns identifying a household, e.g. address1,postcode (default: household)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        if args.jury_command == "lottery":
            return _lottery(args)
        if args.verify:
            return _verify(args)
        return _draw(args)
    except SortitionError as exc:
        print(f"polls: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"polls: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except SolverFailed as exc:
        print(f"polls: the solver failed ({exc}); please report it with the input files", file=sys.stderr)
        return 3


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SortitionError(f"{path} is not UTF-8 text: save it as 'CSV UTF-8'") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise SortitionError(f"{path} is not JSON (line {exc.lineno}: {exc.msg})") from None


def _read_pool(args: argparse.Namespace, households: bool) -> Pool:
    columns = [c.strip() for c in (args.household_columns or "").split(",") if c.strip()]
    if households and not columns:
        columns = ["household"]
    quotas = read_categories(_read_text(args.categories), file=str(args.categories))
    return read_people(
        _read_text(args.people),
        quotas,
        file=str(args.people),
        id_column=args.id_column,
        household_columns=columns if households else (),
    )


def _lottery(args: argparse.Namespace) -> int:
    if args.size < 1:
        raise SortitionError("--size must be at least 1")
    pool = _read_pool(args, args.households)
    groups = group_pool(pool, households=args.households)
    print(
        f"pool of {len(pool):,} people in {len(groups):,} groups of identical people; panel of {args.size}",
        file=sys.stderr,
    )
    seed_path = args.seed_out or args.out.with_suffix(".seed")
    seed = new_seed()
    distribution = fairest_lottery(groups, args.size, progress=Progress())
    lottery = make_lottery(distribution, households_apart=args.households, seed_sha256=commitment(seed))
    _keep_secret(seed_path, seed)
    _write(args.out, json.dumps(lottery.to_json(), indent=1, ensure_ascii=False) + "\n")
    if args.probabilities:
        _write_probabilities(args.probabilities, lottery)
    lowest = min(lottery.probabilities().values())
    print(
        f"lottery over {len(lottery.panels)} panels written to {args.out}\n"
        f"lowest selection probability {float(lowest):.4%}\n"
        f"seed commitment (publish it with the lottery): SHA-256 {lottery.seed_sha256}\n"
        f"the seed is in {seed_path}: keep it secret until the draw"
    )
    return 0


def _keep_secret(path: Path, seed: str) -> None:
    # Never overwrite a seed: its commitment may already be published.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SortitionError(
            f"{path} already holds a seed (its commitment may be published): move it or choose --seed-out"
        ) from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(seed + "\n")


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _write_probabilities(path: Path, lottery: Lottery) -> None:
    categories = lottery.groups.quotas.categories
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([safe(c) for c in ["id", *categories, "probability"]])
        chances = lottery.group_probabilities()
        rows = [(p, g.features, chances[i]) for i, g in enumerate(lottery.groups.groups) for p in g.ids]
        for person, features, chance in sorted(rows):
            writer.writerow([safe(person), *map(safe, features), f"{float(chance):.10f}"])


def _source(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.randomness is None:
        return None
    data = _read_json(args.randomness)
    try:
        read_source(data)
    except ValidationFailed as exc:
        raise SortitionError(
            f"{args.randomness} is not a source of public randomness ({exc.errors[0].message})"
        ) from None
    return dict(data)


def _seed(args: argparse.Namespace) -> str:
    if args.seed is not None:
        return str(args.seed).strip()
    return _read_text(args.seed_file).strip()


def _draw(args: argparse.Namespace) -> int:
    if args.reserves < 0:
        raise SortitionError("--reserves cannot be negative")
    lottery = read_lottery(_read_json(args.lottery))
    source = _source(args)
    value = ""
    if source is not None:
        try:
            value = public_value(source, args.reveal)
        except ValidationFailed as exc:
            raise RandomnessMismatch("; ".join(e.message for e in exc.errors)) from None
    elif args.reveal:
        raise SortitionError("--reveal needs --randomness, the source published with the lottery")
    record = draw(lottery, _seed(args), reserves=args.reserves, public_randomness=value)
    if source is not None:
        record = replace(record, randomness={"source": source, "reveals": [r.strip() for r in args.reveal]})
    text = json.dumps(record.to_json(), indent=1, ensure_ascii=False) + "\n"
    if args.out:
        _write(args.out, text)
    else:
        sys.stdout.write(text)
    print(
        f"panel {record.panel_number} of {len(lottery.panels)} drawn: {', '.join(record.panel)}"
        + (f"\nreserves in order: {', '.join(record.reserves)}" if record.reserves else ""),
        file=sys.stderr,
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    if args.draw is None:
        raise SortitionError("--verify needs --draw, the published draw record")
    lottery = read_lottery(_read_json(args.lottery))
    published: DrawRecord = read_draw(_read_json(args.draw))
    pool = None
    if args.people or args.categories:
        if not (args.people and args.categories):
            raise SortitionError("give both --people and --categories, or neither")
        pool = _read_pool(args, lottery.households_apart)
    source = _source(args)
    problems = verify(lottery, _seed(args), published, pool, source)
    if args.recompute and not problems:
        print("recomputing the fairest probabilities for the lottery's pool and quotas", file=sys.stderr)
        problems = unfair_probabilities(lottery, Progress())
    if problems:
        print("the draw does NOT verify:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    checked = ("the pool and quotas, " if pool else "") + (
        "the fairest probabilities, " if args.recompute else ""
    )
    if source is not None:
        checked += f"the public randomness ({describe(source)}), "
    elif published.randomness is not None:
        print(
            "note: give --randomness (the source published with the lottery) to check the draw used it; "
            f"this record says it used {describe(published.randomness['source'])}",
            file=sys.stderr,
        )
    print(
        f"verified: {checked}the seed commitment and the lottery give panel {published.panel_number}: "
        f"{', '.join(published.panel)}"
        + (f"; reserves in order: {', '.join(published.reserves)}" if published.reserves else "")
    )
    return 0


class Progress:
    """Solver progress on stderr: redrawn in place on a terminal, a line every few seconds otherwise."""

    def __init__(self, out: TextIO | None = None, every: float = 5.0) -> None:
        self.out, self.every = out or sys.stderr, every
        self.tty = self.out.isatty()
        self.started = time.monotonic()
        self.last_line = -every
        self.last_step = ""

    def __call__(self, progress: SolveProgress) -> None:
        now = time.monotonic() - self.started
        lowest = f"  lowest {progress.lowest:.4%}" if progress.lowest is not None else ""
        line = f"{progress.step}: {progress.fraction:6.1%}  panels {progress.panels:,}{lowest}  {now:6.1f}s"
        if self.tty:
            self.out.write(
                f"\r{line:<90}"
                + ("\n" if progress.step == "final lottery" and progress.fraction >= 1 else "")
            )
        elif progress.step != self.last_step or now - self.last_line >= self.every or progress.fraction >= 1:
            self.out.write(line + "\n")
            self.last_line = now
        else:
            return
        self.last_step = progress.step
        self.out.flush()
