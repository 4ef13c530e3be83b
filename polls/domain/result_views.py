"""Official results as people read them: per option rows, a chart, round-by-round tables and the
tie-breaks in words, made from a stored result (``counting.results.as_json``) and its question.

The same rows feed the page's table, its chart and the CSV download, so they always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from polls.domain.ballots import QuestionDef
from polls.domain.charts import Bar, bar_chart, describe
from polls.domain.counting.rules import DEFAULT_RANKING_RULE, RANKING_RULES
from polls.domain.publication import METHOD_LABELS
from polls.domain.questions import QuestionKind
from polls.i18n import N_, _, ngettext


@dataclass(frozen=True)
class Row:
    option_id: int | None  # None for a scale point
    label: str
    values: tuple[tuple[str, str], ...]  # (measure, value as written)
    amount: float  # what the chart draws
    outcome: str  # "winner", "elected", "funded", ... or ""


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class QuestionView:
    id: int
    title: str
    kind: str
    method: str | None
    method_label: str
    ballots: int
    summary: str
    rows: tuple[Row, ...]
    measure: str  # what the chart shows, e.g. "votes"
    chart: str  # inline SVG, "" when there is nothing to draw
    rounds: Table | None  # instant runoff and STV: the count round by round
    pairwise: Table | None  # Condorcet and Schulze: every head-to-head contest
    ties: tuple[str, ...]
    lot_rule: str
    response: str
    notes: tuple[str, ...] = field(default=())

    @property
    def headers(self) -> tuple[str, ...]:
        first = _("Point") if self.kind == QuestionKind.SCALE.value else _("Option")
        measures = tuple(m for m, _value in self.rows[0].values) if self.rows else ()
        return (first, *measures, _("Result"))


def number(value: float | int | None, places: int = 5) -> str:
    """Whole numbers as they are; STV's fractional votes to five places, trailing zeros cut."""
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{places}f}".rstrip("0").rstrip(".")


def _share(n: float, total: int) -> str:
    return f"{number(n)} ({100 * n / total:.0f}%)" if total else number(n)


def view(
    question: QuestionDef, method: str | None, result: Mapping[str, Any], response: str = ""
) -> QuestionView:
    label = {o.id: o.label for o in question.options}

    def name(option: Any) -> str:
        return "nobody" if option is None else label.get(int(option), str(option))

    ballots = int(result.get("ballots", result.get("answered", 0)) or 0)
    method_label = _(METHOD_LABELS.get(method or "", N_("Read by the council, not counted")))
    if method == "stv" and result.get("transfers") == "meek":
        method_label = _("Single transferable vote (Meek's method)")
    builder = _BUILDERS.get(method or "", _comments)
    rows, measure, summary, rounds, notes = builder(question, result, name, ballots)
    if question.kind is QuestionKind.RANKED and method:
        rule = str(question.settings.get("ranking_rule") or DEFAULT_RANKING_RULE)
        notes = [*notes, _("Tied or skipped ranks: %(rule)s.") % {"rule": _(RANKING_RULES[rule])}]
    bars = [Bar(r.label, r.amount, _shown(r), r.outcome) for r in rows]
    chart_id = f"chart-q{question.id}"
    chart = ""
    if bars:
        title = f"{question.title}: {measure}"
        chart = bar_chart(chart_id, title, describe(bars, measure), bars)
    step = "round" if result.get("rounds") else "stage"  # as the round-by-round table names them
    ties = tuple(_tie_text(t, name, step) for t in _ties(result))
    lot = result.get("lot") or {}
    lot_rule = ""
    if lot and any(t.get("decided_by") == "lot" for t in _ties(result)):
        lot_rule = _(
            "Ties are decided by a lot drawn from the ballots themselves: %(rule)s (seed %(seed)s)."
        ) % {
            "rule": lot.get("rule", ""),
            "seed": lot.get("seed", ""),
        }
    return QuestionView(
        id=question.id,
        title=question.title,
        kind=question.kind.value,
        method=method,
        method_label=method_label,
        ballots=ballots,
        summary=summary,
        rows=tuple(rows),
        measure=measure,
        chart=chart,
        rounds=rounds,
        pairwise=_pairwise(question, result),
        ties=ties,
        lot_rule=lot_rule,
        response=response,
        notes=tuple(notes),
    )


def _shown(row: Row) -> str:
    return row.values[0][1] if row.values else number(row.amount)


Built = tuple[list[Row], str, str, Table | None, list[str]]


def _votes(question: QuestionDef, result: Mapping[str, Any], name: Any, ballots: int) -> Built:
    key = "points" if "points" in result else "wins" if "wins" in result else "votes"
    measure = {"points": "points", "wins": "head-to-head contests won", "votes": "votes"}[key]
    counts = {int(k): v for k, v in result.get(key, {}).items()}
    winner = result.get("winner")
    rows = []
    for option in question.options:
        n = counts.get(option.id, 0)
        shown = _share(n, ballots) if key == "votes" else number(n)
        rows.append(
            Row(option.id, option.label, ((measure, shown),), n, "winner" if option.id == winner else "")
        )
    method = result.get("method")
    if method == "condorcet" and winner is None:
        summary = _("No option beats every other head to head, so there is no Condorcet winner.")
    elif winner is not None:
        summary = _("Winner: %(name)s.") % {"name": name(winner)}
    else:
        summary = _("No ballot chose an option.")
    notes = []
    if method == "approval":
        notes.append(_("Each ballot supports any number of options; an option's count is its supporters."))
    if method == "borda":
        notes.append(
            _("Each ranking gives points by position (modified Borda count: unranked options score nothing).")
        )
    return rows, measure, summary, None, notes


def _schulze(question: QuestionDef, result: Mapping[str, Any], name: Any, ballots: int) -> Built:
    paths = {
        int(a): {int(b): v for b, v in row.items()} for a, row in result.get("strongest_paths", {}).items()
    }
    beats = {a: sum(1 for b, v in row.items() if v > paths.get(b, {}).get(a, 0)) for a, row in paths.items()}
    order = [int(o) for o in result.get("order", [])]
    winners = {int(o) for o in result.get("winners", [])}
    winner = result.get("winner")
    # Options tied in a tier share its place; of several unbeaten, the lot picked "winner".
    places = {int(o): n for n, tier in enumerate(result.get("tiers", []), start=1) for o in tier}
    rows = []
    for option in sorted(question.options, key=lambda o: order.index(o.id) if o.id in order else len(order)):
        place = places.get(option.id, order.index(option.id) + 1 if option.id in order else 0)
        values = (("options beaten", number(beats.get(option.id, 0))), ("place", number(place)))
        if option.id == winner or (winner is None and option.id in winners):
            outcome = "winner"
        elif option.id in winners:
            outcome = "unbeaten (tied)"
        else:
            outcome = ""
        rows.append(Row(option.id, option.label, values, beats.get(option.id, 0), outcome))
    tiers = " > ".join(" = ".join(name(o) for o in tier) for tier in result.get("tiers", []))
    summary = (
        _("Schulze ranking: %(tiers)s.") % {"tiers": tiers} if tiers else _("No ballot ranked an option.")
    )
    return (
        rows,
        "options beaten by strongest path",
        summary,
        None,
        [_("Offered as a comparison with the official method.")],
    )


def _instant_runoff(question: QuestionDef, result: Mapping[str, Any], name: Any, ballots: int) -> Built:
    rounds = result.get("rounds", [])
    first = {int(k): v for k, v in rounds[0]["votes"].items()} if rounds else {}
    winner = result.get("winner")
    out_round = {int(r["excluded"]): r["number"] for r in rounds if r.get("excluded") is not None}
    rows = []
    for option in question.options:
        outcome = "winner" if option.id == winner else ""
        out = f"round {out_round[option.id]}" if option.id in out_round else "–"
        values = (("first preferences", _share(first.get(option.id, 0), ballots)), ("excluded in", out))
        rows.append(Row(option.id, option.label, values, first.get(option.id, 0), outcome))
    headers = (_("Option"), *(_("Round %(n)s") % {"n": r["number"]} for r in rounds))
    body: list[tuple[str, ...]] = []
    for option in question.options:
        body.append((option.label, *(number(r["votes"].get(str(option.id))) for r in rounds)))
    body.append((_("Exhausted (no preference left)"), *(number(r["exhausted"]) for r in rounds)))
    outcome_row = []
    for r in rounds:
        outcome_row.append(
            f"{name(r['elected'])} elected"
            if r.get("elected") is not None
            else f"{name(r['excluded'])} excluded"
        )
    body.append((_("Outcome"), *outcome_row))
    table = Table(
        _("Votes in each round: the last option is excluded and its ballots move to their next preference"),
        headers,
        tuple(body),
    )
    summary = (
        ngettext(
            "Winner: %(name)s, after %(num)d round.", "Winner: %(name)s, after %(num)d rounds.", len(rounds)
        )
        % {"name": name(winner), "num": len(rounds)}
        if winner is not None
        else _("No ballot ranked an option.")
    )
    return rows, "first preferences", summary, table, []


def _stv(question: QuestionDef, result: Mapping[str, Any], name: Any, ballots: int) -> Built:
    stages = result.get("stages", [])
    first = {int(k): v for k, v in stages[0]["votes"].items()} if stages else {}
    elected_at = {int(o): s["number"] for s in stages for o in s.get("elected", [])}
    rows = []
    for option in question.options:
        at = f"stage {elected_at[option.id]}" if option.id in elected_at else "–"
        values = (("first preferences", number(first.get(option.id, 0))), ("elected at", at))
        rows.append(
            Row(
                option.id,
                option.label,
                values,
                first.get(option.id, 0),
                "elected" if option.id in elected_at else "",
            )
        )
    headers = ["Candidate"]
    for s in stages:
        what = s["action"] if s.get("candidate") is None else f"{s['action']} of {name(s['candidate'])}"
        headers.append(f"Stage {s['number']}: {what}")
    body: list[tuple[str, ...]] = []
    for option in question.options:
        body.append((option.label, *(number(s["votes"].get(str(option.id))) for s in stages)))
    non_transferable = lost = 0.0
    nt_row, lost_row, outcome_row = [], [], []
    for s in stages:
        non_transferable += s.get("non_transferable", 0)
        lost += s.get("lost_to_rounding", 0)
        nt_row.append(number(round(non_transferable, 5)))
        lost_row.append(number(round(lost, 5)))
        elected = ", ".join(name(o) for o in s.get("elected", []))
        outcome_row.append(f"elected {elected}" if elected else "–")
    body += [
        ("Non-transferable, so far", *nt_row),
        ("Lost to rounding, so far", *lost_row),
        ("Outcome", *outcome_row),
    ]
    table = Table(
        f"The count, stage by stage (quota {number(result.get('quota'))}, {_seats(result)})",
        tuple(headers),
        tuple(body),
    )
    elected = ", ".join(name(o) for o in result.get("elected", [])) or "nobody"
    summary = f"Elected ({_seats(result)}): {elected}."
    notes = [str(result.get("rules", ""))] if result.get("rules") else []
    return rows, "first preferences", summary, table, notes


def _scale(question: QuestionDef, result: Mapping[str, Any], name: Any, ballots: int) -> Built:
    low, high = question.settings.get("min_label") or "", question.settings.get("max_label") or ""
    points = sorted((int(k), v) for k, v in result.get("distribution", {}).items())
    rows = []
    for i, (point, n) in enumerate(points):
        words = (
            f"{point} – {low}"
            if i == 0 and low
            else f"{point} – {high}"
            if i == len(points) - 1 and high
            else str(point)
        )
        rows.append(Row(None, words, (("answers", _share(n, ballots)),), n, ""))
    mean, median = number(result.get("mean"), 2), number(result.get("median"), 2)
    summary = _("Mean %(mean)s, median %(median)s, from %(answers)s answers.") % {
        "mean": mean,
        "median": median,
        "answers": number(ballots),
    }
    return rows, "answers", summary, None, []


def _budget(question: QuestionDef, result: Mapping[str, Any], name: Any, ballots: int) -> Built:
    votes = {int(k): v for k, v in result.get("votes", {}).items()}
    funded = [int(o) for o in result.get("funded", [])]
    completed = {int(s["project"]) for s in result.get("completed", []) if s.get("funded")}
    rows = []
    for option in question.options:
        outcome = ""
        if option.id in funded:
            outcome = "funded (completion)" if option.id in completed else "funded"
        values = (("votes", _share(votes.get(option.id, 0), ballots)), ("cost", f"£{number(option.cost)}"))
        rows.append(Row(option.id, option.label, values, votes.get(option.id, 0), outcome))
    budget = result.get("budget", question.settings.get("budget_total"))
    names = ", ".join(name(o) for o in funded) or "nothing"
    summary = f"Funded: {names}; £{number(result.get('spent'))} of £{number(budget)} spent."
    if str(result.get("method", "")).startswith("equal_shares"):
        notes = _equal_shares_notes(result, name)
    else:
        notes = [_("Greedy: projects in order of votes, each funded if the money left covers it.")]
    return rows, "votes", summary, None, notes


def _equal_shares_notes(result: Mapping[str, Any], name: Any) -> list[str]:
    """Which variant ran, where its rises stopped, and why it differs from a greedy count."""
    notes = [
        _(
            "Method of Equal Shares: the budget is shared equally among voters, and a project is "
            "bought when its supporters can pay for it from their shares."
        )
    ]
    if result.get("variant"):  # results counted before the variants were recorded say nothing
        rises = int(result.get("rises", 0))
        notes.append(f"Variant: {result['variant']}.")
        if result.get("stopped"):
            share, plural = number(result.get("share"), 2), "" if rises == 1 else "s"
            notes.append(
                f"Each voter's share: £{share}, after {rises} rise{plural} of £1; "
                f"the rises stopped because {result['stopped']}."
            )
    differences = result.get("differences") or []
    if result.get("variant") and not differences:
        notes.append(_("A greedy count by votes would fund the same projects."))
    for d in differences:
        would = "would fund" if d.get("funded_by_greedy") else "would not fund"
        notes.append(f"A greedy count by votes {would} {name(d.get('project'))}: {d.get('reason')}.")
    return notes


def _comments(question: QuestionDef, result: Mapping[str, Any], name: Any, ballots: int) -> Built:
    comments = f"{number(ballots)} comment{'s' if ballots != 1 else ''}"
    summary = f"{comments}, read by the council and summarised in its response."
    return [], "comments", summary, None, []


_BUILDERS = {
    "plurality": _votes,
    "approval": _votes,
    "borda": _votes,
    "condorcet": _votes,
    "schulze": _schulze,
    "instant_runoff": _instant_runoff,
    "stv": _stv,
    "scale": _scale,
    "greedy": _budget,
    "equal_shares": _budget,
    "equal_shares_cost": _budget,
}


def _pairwise(question: QuestionDef, result: Mapping[str, Any]) -> Table | None:
    """The head-to-head table: a row option against each column option."""
    if "prefer" in result:
        matrix, caption = (
            result["prefer"],
            "Head to head: ballots ranking the row's option above the column's",
        )
    elif "strongest_paths" in result:
        matrix, caption = result["strongest_paths"], "Strongest path from the row's option to the column's"
    else:
        return None
    options = question.options
    rows = tuple(
        (
            a.label,
            *("–" if a.id == b.id else number(matrix.get(str(a.id), {}).get(str(b.id), 0)) for b in options),
        )
        for a in options
    )
    return Table(caption, ("Option", *(f"over {b.label}" for b in options)), rows)


def _ties(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = []
    if result.get("tie"):
        found.append(result["tie"])
    found += result.get("ties") or []
    for step in [*(result.get("rounds") or []), *(result.get("stages") or [])]:
        if step.get("tie"):
            found.append(step["tie"])
    return found


def _tie_text(tie: Mapping[str, Any], name: Any, step: str = "stage") -> str:
    among = ", ".join(name(o) for o in tie.get("among", []))
    where = f"At {step} {tie['stage']}, " if tie.get("stage", 0) > 0 else ""
    about, how = tie.get("about", "a place"), tie.get("decided_by")
    return f"{where}{among} were tied for {about}; decided by {how}: {name(tie.get('chosen'))}."


def _seats(result: Mapping[str, Any]) -> str:
    seats = result.get("seats")
    return f"{seats} seat{'s' if seats != 1 else ''}"
