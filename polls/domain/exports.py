"""Downloads of published results: a CSV of every number on the results page, and a budget
question's ballots in pabulib's .pb format (read back by ``ballot_files.read_pabulib``).

pabulib .pb: three sections, each a ';'-separated table (CSV quoting) with a header row.

    META      key;value — description, country, unit, subunit, instance, num_projects,
              num_votes, budget, vote_type (approval), rule, date_begin, date_end (dd.mm.yyyy)
    PROJECTS  project_id;cost;votes;name;selected — our option ids; selected 1 when funded
    VOTES     voter_id;vote — vote is the supported project ids joined by ',' (empty: none)

Voters are numbered 1..n in the order of their answers, sorted, so the file says nothing about
when or where anyone voted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from polls.domain.ballots import QuestionDef
from polls.domain.counting.shares_variants import Variant
from polls.domain.result_views import QuestionView
from polls.domain.spreadsheets import spreadsheet_safe as safe

CSV_HEADER = ("question_id", "question", "method", "option_id", "option", "measure", "value", "result")


def results_csv(views: Sequence[QuestionView]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for v in views:
        title = safe(v.title)  # titles and labels are typed by officers: never a formula
        for row in v.rows:
            for measure, value in row.values:
                option_id = "" if row.option_id is None else row.option_id
                writer.writerow(
                    (v.id, title, v.method or "", option_id, safe(row.label), measure, value, row.outcome)
                )
        if not v.rows:
            writer.writerow((v.id, title, v.method or "", "", "", v.measure, v.ballots, ""))
    return out.getvalue()


@dataclass(frozen=True)
class PabulibFacts:
    council: str  # unit
    pilot: str  # subunit
    poll: str  # instance
    opened: date | None
    closed: date | None
    country: str = "United Kingdom"


def pabulib(
    question: QuestionDef,
    ballots: Iterable[tuple[Any, int]],
    method: str | None,
    funded: Iterable[int],
    facts: PabulibFacts,
) -> str:
    """A budget question's approval ballots as a pabulib file."""
    votes = sorted((tuple(sorted(answer)), n) for answer, n in ballots)
    support: dict[int, int] = {o.id: 0 for o in question.options}
    for answer, n in votes:
        for project in answer:
            support[project] = support.get(project, 0) + n
    chosen = set(funded)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    meta = [
        ("description", question.title),
        ("country", facts.country),
        ("unit", facts.council),
        ("subunit", facts.pilot),
        ("instance", facts.poll),
        ("num_projects", len(question.options)),
        ("num_votes", sum(n for _, n in votes)),
        ("budget", int(question.settings["budget_total"])),
        ("vote_type", "approval"),
        ("rule", Variant.of(question.settings).rule() if method == "equal_shares" else method or ""),
        ("date_begin", _day(facts.opened)),
        ("date_end", _day(facts.closed)),
    ]
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    writer.writerows(meta)
    writer.writerow(["PROJECTS"])
    writer.writerow(["project_id", "cost", "votes", "name", "selected"])
    for o in question.options:
        writer.writerow([o.id, o.cost or 0, support.get(o.id, 0), o.label, 1 if o.id in chosen else 0])
    writer.writerow(["VOTES"])
    writer.writerow(["voter_id", "vote"])
    voter = 0
    for answer, n in votes:
        for _ in range(n):
            voter += 1
            writer.writerow([voter, ",".join(str(p) for p in answer)])
    return out.getvalue()


def _day(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else ""
