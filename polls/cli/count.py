"""`polls recount FILE`: count a published ballot file (or a PrefLib, BLT or pabulib file) again.

Prints each question's result for people (every round or stage for ranked methods), then one
line of JSON with every result, which for a published file equals the official result.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from polls.domain.ballot_files import BallotFile, QuestionBallots, read_ballot_file
from polls.domain.counting import official
from polls.domain.counting.equal_shares import EqualSharesResult
from polls.domain.counting.instant_runoff import InstantRunoffResult
from polls.domain.counting.meek import MeekResult, MeekStage
from polls.domain.counting.results import as_json
from polls.domain.counting.rules import DEFAULT_RANKING_RULE, RANKING_RULES, STV_TRANSFERS
from polls.domain.counting.scale import ScaleResult
from polls.domain.counting.schulze import SchulzeResult
from polls.domain.counting.shares_variants import COMPLETIONS, UTILITIES
from polls.domain.counting.stv import STVResult
from polls.domain.counting.ties import Tie
from polls.domain.questions import QuestionKind
from polls.errors import BallotFileError

Naming = Callable[[int | None], str]


def add_parsers(commands: Any) -> None:
    recount = commands.add_parser(
        "recount",
        help="count a ballot file again: a poll's published file, PrefLib .soi/.toi, BLT or pabulib .pb",
    )
    recount.add_argument("file", type=Path)
    recount.add_argument("--method", choices=official.ALL_METHODS, help="count by this method instead")
    recount.add_argument("--seats", type=int, help="seats to fill (ranked questions; STV when more than 1)")
    recount.add_argument("--question", type=int, help="only this question (its id)")
    rules = recount.add_argument_group("counting rules (instead of what the file says, or the defaults)")
    rules.add_argument("--ranking-rule", choices=RANKING_RULES, help="how tied or skipped ranks are read")
    rules.add_argument("--transfers", choices=STV_TRANSFERS, help="how STV transfers surpluses")
    rules.add_argument("--utility", choices=UTILITIES, help="the Method of Equal Shares' utility")
    rules.add_argument("--completion", choices=COMPLETIONS, help="the Method of Equal Shares' completion")
    recount.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
        ballot_file = read_ballot_file(args.file.name, text)
    except OSError as exc:
        print(f"polls recount: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"polls recount: {args.file} is not UTF-8 text", file=sys.stderr)
        return 1
    except BallotFileError as exc:
        print(f"polls recount: {args.file}, {exc.message}", file=sys.stderr)
        return 1
    if args.seats is not None and args.seats < 1:
        print("polls recount: --seats must be at least 1", file=sys.stderr)
        return 2
    chosen = _chosen(ballot_file, args)
    if isinstance(chosen, str):
        print(f"polls recount: {chosen}", file=sys.stderr)
        return 2
    for note in ballot_file.notes:
        print(f"note: {note}")
    results = []
    for item, method in chosen:
        result = official.count(item.question, item.ballots, method, args.seats)
        said = said_plainly(item, result)
        print("\n".join([*describe(item, result), *(f"  note: {n}" for n in said)]))
        print()
        results.append(
            {
                "question": item.question.id,
                "title": item.question.title,
                "settings": dict(item.question.settings),
                "result": as_json(result),
                "notes": said,
            }
        )
    summary = {"file": args.file.name, "format": ballot_file.format, "notes": list(ballot_file.notes)}
    print(json.dumps(summary | {"results": results}))
    return 0


def said_plainly(item: QuestionBallots, result: official.Result) -> list[str]:
    """What a bare result would leave unsaid: nothing to count, or seats left unfilled."""
    notes = []
    if not item.question.options:
        notes.append("nothing to count: the file lists no candidates or options")
    elif not getattr(result, "ballots", 1):
        notes.append("nothing to count: the file holds no valid ballots for this question")
    if isinstance(result, STVResult | MeekResult):
        unfilled = result.seats - len(result.elected)
        if unfilled > 0:
            candidates = len(item.question.options)
            notes.append(
                f"{unfilled} of {result.seats} seats left unfilled "
                f"({candidates} candidate{'s' if candidates != 1 else ''}, {len(result.elected)} elected)"
            )
    return notes


def _chosen(ballot_file: BallotFile, args: argparse.Namespace) -> list[tuple[QuestionBallots, str]] | str:
    items = [q for q in ballot_file.questions if q.question.kind is not QuestionKind.COMMENT]
    if args.question is not None:
        items = [q for q in items if q.question.id == args.question]
        if not items:
            return f"the file has no counted question {args.question}"
    chosen = []
    for item in items:
        method = args.method or item.method or official.usual_method(item.question, args.seats)
        if method in official.METHODS[item.question.kind]:
            chosen.append((_with_rules(item, args), method))
    if not chosen:
        return f"{args.method} cannot count any question in this file"
    return chosen


def _with_rules(item: QuestionBallots, args: argparse.Namespace) -> QuestionBallots:
    """The question with the counting rules given on the command line."""
    kind = item.question.kind
    given = {
        QuestionKind.RANKED: {"ranking_rule": args.ranking_rule, "stv_transfers": args.transfers},
        QuestionKind.BUDGET: {"mes_utility": args.utility, "mes_completion": args.completion},
    }.get(kind, {})
    chosen = {k: v for k, v in given.items() if v is not None}
    if not chosen:
        return item
    question = replace(item.question, settings={**item.question.settings, **chosen})
    return replace(item, question=question)


def describe(item: QuestionBallots, result: official.Result) -> list[str]:
    """The result as lines of text for people."""
    question = item.question
    label = {o.id: o.label for o in question.options}

    def name(option: int | None) -> str:
        return "nobody" if option is None else label.get(option, str(option))

    lines = [f"Question {question.id}: {question.title or '(untitled)'}", f"  method: {result.method}"]
    if isinstance(result, ScaleResult):
        points = ", ".join(f"{p}: {n}" for p, n in result.distribution.items())
        lines += [f"  {result.ballots} answers; {points}", f"  mean {result.mean}, median {result.median}"]
        return lines
    lines.append(f"  ballots: {result.ballots}")
    if question.kind is QuestionKind.RANKED:
        rule = str(question.settings.get("ranking_rule") or DEFAULT_RANKING_RULE)
        lines.append(f"  tied or skipped ranks: {RANKING_RULES[rule]}")
    if isinstance(result, STVResult | MeekResult):
        lines += _stv(result, name)
    elif isinstance(result, InstantRunoffResult):
        for r in result.rounds:
            votes = ", ".join(f"{name(o)} {v}" for o, v in r.votes.items())
            outcome = (
                f"elected {name(r.elected)}" if r.elected is not None else f"excluded {name(r.excluded)}"
            )
            lines.append(
                f"  round {r.number}: {votes}; exhausted {r.exhausted}; {outcome}{_tie(r.tie, name)}"
            )
        lines.append(f"  winner: {name(result.winner)}")
    elif isinstance(result, EqualSharesResult):
        lines += _equal_shares(result, name)
    elif isinstance(result, SchulzeResult):
        lines.append("  ranking: " + " > ".join(" = ".join(name(o) for o in tier) for tier in result.tiers))
        lines.append(f"  winner: {name(result.winner)}{_tie(result.tie, name)}")
    else:
        lines += _simple(as_json(result), name)
    if item.selected is not None and hasattr(result, "funded"):
        lines.append(_against_official(item.selected, result.funded, name))
    return lines


def _equal_shares(result: EqualSharesResult, name: Naming) -> list[str]:
    lines = [f"  variant: {result.variant}"]
    for p in result.purchases:
        lines.append(f"  equal shares: {name(p.project)} (cost {p.cost}, {p.price:.2f} per supporter)")
    lines += [f"  completion: {name(s.project)} (cost {s.cost})" for s in result.completed if s.funded]
    stopped = f" ({result.stopped})" if result.stopped else ""
    lines.append(
        f"  share per voter {result.share:.2f} after {result.rises} rises{stopped}; spent {result.spent}"
    )
    lines += [f"  tie{_tie(t, name)}" for t in result.ties]
    for d in result.differences:
        would = "would fund" if d.funded_by_greedy else "would not fund"
        lines.append(f"  greedy by votes {would} {name(d.project)}: {d.reason}")
    return lines


def _against_official(selected: tuple[int, ...], funded: tuple[int, ...], name: Naming) -> str:
    """A pabulib file's official selection against the recount."""
    if set(selected) == set(funded):
        return "  official selection (the file's selected column): the same projects"
    missing = ", ".join(name(o) for o in selected if o not in funded) or "none"
    extra = ", ".join(name(o) for o in funded if o not in selected) or "none"
    return f"  official selection DIFFERS: selected but not funded here: {missing}; funded here only: {extra}"


def _stv(result: STVResult | MeekResult, name: Naming) -> list[str]:
    """Candidates down the side and stages across, as councils publish a count; the last two rows
    add up what has been set aside so far, so every column totals the valid votes."""
    lines = [f"  {result.rules}", f"  seats: {result.seats}; quota: {result.quota}"]
    stages = result.stages
    set_aside = {"non-transferable": 0.0, "lost to rounding": 0.0}
    rows: dict[str, list[float]] = {
        name(o): [s.votes[o] for s in stages] for o in (stages[0].votes if stages else ())
    }
    for label in set_aside:
        rows[label] = []
    for s in stages:
        set_aside["non-transferable"] += s.non_transferable
        set_aside["lost to rounding"] += s.lost_to_rounding
        for label, total in set_aside.items():
            rows[label].append(total)
    width = max(len(label) for label in rows) + 2
    lines.append("  " + " " * width + "".join(f"{'stage ' + str(s.number):>14}" for s in stages))
    lines += [
        f"  {label:<{width}}" + "".join(f"{v:>14.5f}" for v in values) for label, values in rows.items()
    ]
    for s in stages:
        what = s.action if s.candidate is None else f"{s.action} of {name(s.candidate)}"
        if isinstance(s, MeekStage):
            keep = ", ".join(f"{name(o)} {k:.9f}" for o, k in s.keep_values.items())
            what += f" (quota {s.quota:.9f}; keep values {keep or 'none'})"
        elif s.transfer_values:
            what += " at " + ", ".join(f"{v:.5f}" for v in s.transfer_values)
        if s.elected:
            how = "filling the last vacancies" if s.last_vacancies else "reaching the quota"
            what += f"; elected {', '.join(name(o) for o in s.elected)} ({how})"
        lines.append(f"  stage {s.number}: {what}{_tie(s.tie, name)}")
    lines.append(f"  elected: {', '.join(name(o) for o in result.elected) or 'nobody'}")
    return lines


def _simple(data: dict[str, Any], name: Naming) -> list[str]:
    lines = []
    for key in ("votes", "points", "wins"):
        if key in data:
            lines.append(f"  {key}: " + ", ".join(f"{name(int(o))} {n}" for o, n in data[key].items()))
    if "funded" in data:
        lines.append(
            f"  funded: {', '.join(name(o) for o in data['funded']) or 'nothing'}; spent {data['spent']}"
        )
    if "winner" in data:
        lines.append(f"  winner: {name(data['winner'])}")
    ties = data.get("ties") or ([data["tie"]] if data.get("tie") else [])
    for t in ties:
        among = ", ".join(name(o) for o in t["among"])
        lines.append(
            f"  tie for {t['about']} between {among}, decided by {t['decided_by']}: {name(t['chosen'])}"
        )
    return lines


def _tie(tie: Tie | None, name: Naming) -> str:
    if tie is None:
        return ""
    among = ", ".join(name(o) for o in tie.among)
    return f" (tie for {tie.about} between {among}, decided by {tie.decided_by}: {name(tie.chosen)})"
