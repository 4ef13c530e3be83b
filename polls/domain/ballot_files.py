"""Ballot files that can be recounted: the poll's published anonymised ballot file (its format is
described in ``published_ballots``) and the interchange formats an officer may want to recount
(PrefLib .soi/.toi, BLT, pabulib .pb).

Readers return a ``BallotFile``; a malformed file raises ``BallotFileError`` naming the line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from polls.domain.ballots import OptionDef, QuestionDef
from polls.domain.counting.shares_variants import read_rule
from polls.domain.published_ballots import BallotFile as BallotFile
from polls.domain.published_ballots import QuestionBallots as QuestionBallots
from polls.domain.published_ballots import read_published as read_published
from polls.domain.published_ballots import write_published as write_published
from polls.domain.questions import QuestionKind
from polls.errors import BallotFileError


def read_ballot_file(name: str, text: str) -> BallotFile:
    """Any supported file, told apart by its extension."""
    suffix = PurePath(name).suffix.lower()
    if suffix in (".soi", ".toi", ".soc", ".toc"):
        return read_preflib(text, default_title=PurePath(name).stem)
    if suffix == ".blt":
        return read_blt(text)
    if suffix == ".pb":
        return read_pabulib(text)
    return read_published(text)


# -- PrefLib .soi / .toi (and complete .soc / .toc) ------------------------------------------


def read_preflib(text: str, default_title: str = "") -> BallotFile:
    """PrefLib's format: "# KEY: value" metadata, then lines "count: 3,1,{2,4}". A group in braces
    is a tie, kept as a group: the question's rule for tied ranks reads it when counting (the
    Scottish rule by default: the ballot counts up to its first tie). A file that does not say
    how many voters it holds is read with a note that the total could not be checked."""
    meta: dict[str, tuple[int, str]] = {}
    names: dict[int, str] = {}
    counts: Counter[tuple[Any, ...]] = Counter()
    voters = 0
    alternatives: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if not sep:
                raise BallotFileError(number, "a metadata line needs the form '# KEY: value'")
            key, value = key.strip().upper(), value.strip()
            meta[key] = (number, value)
            named = re.fullmatch(r"ALTERNATIVE NAME (\d+)", key)
            if named:
                names[int(named.group(1))] = value
            elif key == "NUMBER ALTERNATIVES":
                alternatives = _whole(value, number, "the number of alternatives")
            continue
        if alternatives is None:
            raise BallotFileError(number, "an order comes before '# NUMBER ALTERNATIVES'")
        amount, sep, prefs = line.partition(":")
        if not sep:
            raise BallotFileError(number, "an order needs the form 'count: 1,2,3'")
        count = _whole(amount.strip(), number, "the count")
        strict = meta.get("DATA TYPE", (0, "soi"))[1].lower() in ("soi", "soc")
        counts[_preflib_ranking(prefs, alternatives, number, strict)] += count
        voters += count
    if alternatives is None:
        raise BallotFileError(1, "the '# NUMBER ALTERNATIVES' line is missing")
    data_type = meta.get("DATA TYPE")
    if data_type and data_type[1].lower() not in ("soi", "toi", "soc", "toc"):
        raise BallotFileError(data_type[0], f"data type {data_type[1]!r} is not ranked ballots (soi, toi)")
    stated = meta.get("NUMBER VOTERS")
    unchecked = "the file does not say how many voters it holds (NUMBER VOTERS), so no total can be checked"
    notes = () if stated else (unchecked,)
    if stated and _whole(stated[1], stated[0], "the number of voters") != voters:
        raise BallotFileError(
            stated[0], f"the file says {stated[1]} voters but its orders add up to {voters}"
        )
    options = tuple(OptionDef(i, names.get(i, f"Alternative {i}")) for i in range(1, alternatives + 1))
    title = meta.get("TITLE", (0, default_title))[1] or default_title
    question = QuestionDef(1, QuestionKind.RANKED, title, {"seats": 1}, options)
    return BallotFile("preflib", title, (QuestionBallots(question, None, _nonempty(counts)),), notes)


def _preflib_ranking(prefs: str, alternatives: int, number: int, strict: bool) -> tuple[Any, ...]:
    groups: list[list[str]] = []
    rest = prefs.strip()
    while rest:
        if rest.startswith("{"):
            end = rest.find("}")
            if end < 0:
                raise BallotFileError(number, "a '{' is never closed")
            if strict:
                raise BallotFileError(number, "a strict-order file (.soi) cannot hold ties in braces")
            groups.append(rest[1:end].split(","))
            rest = rest[end + 1 :].strip()
        else:
            item, _, _ = rest.partition(",")
            groups.append([item])
            rest = rest[len(item) :]
        if rest and not rest.startswith(","):
            raise BallotFileError(number, f"expected a comma before {rest[:10]!r}")
        rest = rest[1:].strip()
    seen: set[int] = set()
    ranking: list[Any] = []
    for group in groups:
        members = [_alternative(item, alternatives, number) for item in group]
        if seen.intersection(members) or len(set(members)) != len(members):
            raise BallotFileError(number, "an alternative appears twice in one order")
        seen.update(members)
        ranking.append(members[0] if len(members) == 1 else tuple(members))
    return tuple(ranking)


def _alternative(item: str, alternatives: int, number: int) -> int:
    value = _whole(item.strip(), number, "an alternative")
    if not 1 <= value <= alternatives:
        raise BallotFileError(number, f"alternative {value} is not between 1 and {alternatives}")
    return value


def _whole(text: str, number: int, what: str) -> int:
    if not re.fullmatch(r"\d+", text):
        raise BallotFileError(number, f"{what} should be a whole number, not {text!r}")
    return int(text)


def _nonempty(counts: Mapping[tuple[Any, ...], int]) -> tuple[tuple[Any, int], ...]:
    """Rankings holding an option, in a fixed order (ranks are options or groups of them)."""
    kept = [(r, n) for r, n in counts.items() if n and any(isinstance(x, int) or x for x in r)]
    return tuple(sorted(kept, key=lambda item: json.dumps(item[0])))


# -- BLT ---------------------------------------------------------------------------------------


def read_blt(text: str) -> BallotFile:
    """The BLT format of OpenSTV and ERS: "candidates seats", an optional line of withdrawn
    candidates as negative numbers, ballot lines "[(id)] weight pref pref ... 0", a line "0",
    then each candidate's name and the election's title in double quotes. "2=3" is a tie (the
    ranking stops before it, as for PrefLib); "-" is a skipped preference."""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
    if not lines:
        raise BallotFileError(1, "the file is empty")
    rows = iter(lines)
    number, first = next(rows)
    head = first.split()
    if len(head) != 2:
        raise BallotFileError(number, "the first line should be 'candidates seats'")
    candidates = _whole(head[0], number, "the number of candidates")
    seats = _whole(head[1], number, "the number of seats")
    withdrawn: set[int] = set()
    counts: Counter[tuple[Any, ...]] = Counter()
    ended = False
    for number, line in rows:
        tokens = line.split()
        if not counts and not withdrawn and tokens[0].startswith("-") and tokens[0][1:].isdigit():
            withdrawn = {_blt_candidate(t[1:], candidates, number) for t in tokens}
            continue
        if tokens == ["0"]:
            ended = True
            break
        if tokens[0].startswith('"'):
            raise BallotFileError(number, "the ballots must end with a line '0' before the names")
        if tokens[0].startswith("("):
            tokens = tokens[1:]
        if not tokens or tokens[-1] != "0":
            raise BallotFileError(number, "a ballot line must end with 0")
        weight = _whole(tokens[0], number, "the ballot weight")
        counts[_blt_ranking(tokens[1:-1], candidates, withdrawn, number)] += weight
    if not ended:
        raise BallotFileError(lines[-1][0], "the ballots never end with a line '0'")
    strings: list[tuple[int, str]] = []
    for number, line in rows:
        found = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
        if not found or re.sub(r'"((?:[^"\\]|\\.)*)"', "", line).strip():
            raise BallotFileError(number, "expected a name in double quotes")
        strings += [(number, s) for s in found]
    if len(strings) < candidates:
        where = strings[-1][0] if strings else lines[-1][0]
        raise BallotFileError(where, f"expected {candidates} candidate names, found {len(strings)}")
    names = [s for _, s in strings]
    title = names[candidates] if len(names) > candidates else ""
    options = tuple(OptionDef(i, names[i - 1]) for i in range(1, candidates + 1) if i not in withdrawn)
    question = QuestionDef(1, QuestionKind.RANKED, title, {"seats": seats}, options)
    return BallotFile("blt", title, (QuestionBallots(question, None, _nonempty(counts)),))


def _blt_ranking(prefs: list[str], candidates: int, withdrawn: set[int], number: int) -> tuple[Any, ...]:
    """The ranks as marked: "-" a skipped rank (an empty group), "2=3" a tie (a group). Withdrawn
    candidates are not on the ballot, so they are left out of their rank (and a rank holding only
    withdrawn candidates is no rank at all)."""
    ranking: list[Any] = []
    seen: set[int] = set()
    for token in prefs:
        if token == "-":
            ranking.append(())
            continue
        members = [_blt_candidate(t, candidates, number) for t in token.split("=")]
        if seen.intersection(members) or len(set(members)) != len(members):
            raise BallotFileError(number, "a candidate is ranked twice on one ballot")
        seen.update(members)
        standing = [m for m in members if m not in withdrawn]
        if standing:
            ranking.append(standing[0] if len(standing) == 1 else tuple(standing))
    return tuple(ranking)


def _blt_candidate(token: str, candidates: int, number: int) -> int:
    value = _whole(token, number, "a candidate number")
    if not 1 <= value <= candidates:
        raise BallotFileError(number, f"candidate {value} is not between 1 and {candidates}")
    return value


# -- pabulib .pb -------------------------------------------------------------------------------


def read_pabulib(text: str) -> BallotFile:
    """pabulib's format: sections META, PROJECTS and VOTES, each a ';'-separated table with a header
    row. Approval votes only (``vote_type`` approval): each vote lists the project ids supported.
    The ``rule`` says how the city counted (``shares_variants.read_rule``); a ``selected`` column
    gives the projects it funded, kept to compare with the recount."""
    sections = _sections(text)
    meta = {row[0].lower(): (n, row[1] if len(row) > 1 else "") for n, row in sections["META"][1:] if row}
    budget_line, budget_text = meta.get("budget", (sections["META"][0][0], ""))
    budget = _amount(budget_text, budget_line, "the budget")
    vote_line, vote_type = meta.get("vote_type", (0, "approval"))
    if vote_type.lower() != "approval":
        raise BallotFileError(vote_line, f"vote_type {vote_type!r} is not supported; only approval votes")
    projects = _table(sections["PROJECTS"], ("project_id", "cost"))
    option_of, options, selected = _projects(projects)
    counts: Counter[tuple[int, ...]] = Counter()
    for number, v in _table(sections["VOTES"], ("vote",)):
        chosen = [c.strip() for c in v["vote"].split(",") if c.strip()]
        unknown = [c for c in chosen if c not in option_of]
        if unknown:
            raise BallotFileError(number, f"the vote names project {unknown[0]!r}, which is not listed")
        if len(set(chosen)) != len(chosen):
            raise BallotFileError(number, "the vote names a project twice")
        counts[tuple(sorted(option_of[c] for c in chosen))] += 1
    for key, actual, what in (
        ("num_projects", len(projects), "projects"),
        ("num_votes", counts.total(), "votes"),
    ):
        if key in meta and _whole(meta[key][1], meta[key][0], key) != actual:
            raise BallotFileError(meta[key][0], f"{key} says {meta[key][1]} but the file has {actual} {what}")
    settings: dict[str, Any] = {"budget_total": budget}
    rule_line, rule = meta.get("rule", (0, ""))
    try:
        counted_by = read_rule(rule)
    except ValueError as exc:
        raise BallotFileError(rule_line, str(exc)) from None
    method, variant = counted_by or (None, None)
    if variant is not None:
        settings |= {"mes_utility": variant.utility, "mes_completion": variant.completion}
    title = meta.get("description", (0, ""))[1] or meta.get("unit", (0, ""))[1]
    question = QuestionDef(1, QuestionKind.BUDGET, title, settings, tuple(options))
    item = QuestionBallots(question, method, tuple(sorted(counts.items())), selected)
    return BallotFile("pabulib", title, (item,))


def _sections(text: str) -> dict[str, list[tuple[int, list[str]]]]:
    sections: dict[str, list[tuple[int, list[str]]]] = {}
    current: list[tuple[int, list[str]]] | None = None
    for number, row in _csv_rows(text):
        if len(row) == 1 and row[0].strip().upper() in ("META", "PROJECTS", "VOTES"):
            current = sections.setdefault(row[0].strip().upper(), [])
            continue
        if current is None:
            raise BallotFileError(number, "expected the section line META before any data")
        current.append((number, [cell.strip() for cell in row]))
    for name in ("META", "PROJECTS", "VOTES"):
        if not sections.get(name):
            raise BallotFileError(1, f"the {name} section is missing or has no header row")
    return sections


def _projects(
    projects: list[tuple[int, dict[str, str]]],
) -> tuple[dict[str, int], list[OptionDef], tuple[int, ...] | None]:
    """Option ids by project id, the options, and the projects marked selected (None: no column)."""
    ids = [p["project_id"] for _, p in projects]
    numeric = all(re.fullmatch(r"\d+", i) for i in ids) and len({int(i) for i in ids}) == len(ids)
    option_of: dict[str, int] = {}
    options, selected = [], []
    for position, (number, p) in enumerate(projects, start=1):
        if p["project_id"] in option_of:
            raise BallotFileError(number, f"project {p['project_id']!r} is listed twice")
        option = option_of[p["project_id"]] = int(p["project_id"]) if numeric else position
        label = p.get("name") or p["project_id"]
        options.append(OptionDef(option, label, _amount(p["cost"], number, "the cost")))
        mark = p.get("selected", "").strip()
        if mark not in ("", "0", "1"):
            raise BallotFileError(number, f"selected should be 0 or 1, not {mark!r}")
        if mark == "1":
            selected.append(option)
    has_column = bool(projects) and "selected" in projects[0][1]
    return option_of, options, tuple(selected) if has_column else None


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text), delimiter=";")
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise BallotFileError(reader.line_num, f"unreadable line ({exc})") from None


def _table(rows: list[tuple[int, list[str]]], required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    header_line, header = rows[0]
    columns = [c.lower() for c in header]
    for name in required:
        if name not in columns:
            raise BallotFileError(header_line, f"the header has no {name!r} column")
    table = []
    for number, row in rows[1:]:
        if len(row) != len(columns):
            raise BallotFileError(number, f"expected {len(columns)} fields, found {len(row)}")
        table.append((number, dict(zip(columns, row, strict=True))))
    return table


def _amount(text: str, number: int, what: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BallotFileError(number, f"{what} should be a number, not {text!r}") from None
    if value < 0 or value != value.to_integral_value():
        raise BallotFileError(number, f"{what} should be a whole, non-negative amount, not {text!r}")
    return int(value)
