"""The poll's published anonymised ballot file (the interchange formats an officer may want to
recount, PrefLib .soi/.toi, BLT and pabulib .pb, are read by ``ballot_imports``).

The published ballot file (format "polls-ballots", version 1) is JSON Lines, UTF-8:

    line 1   the poll and its counted questions:
             {"format": "polls-ballots", "version": 1, "poll": {"id": 7, "title": "..."},
              "questions": [{"id": 31, "kind": "ranked", "title": "...", "method": "stv",
                             "settings": {"seats": 2, "ranking_rule": "scottish", ...},
                             "options": [{"id": 101, "label": "...", "cost": null}, ...]}, ...]}
    line 2-  one ballot per line: its answers keyed by question id, exactly as stored
             (single: option id; multiple and budget: sorted option ids; ranked: option ids
             best first; scale: a whole number), e.g. {"31": [103, 101], "32": 4}; a ballot that
             answered only comment questions is {}.

Ballots are shuffled when the file is written. They carry no code, voter reference, tracker,
time, area or channel, and free-text comments are left out: only what is counted. ``method`` is
the counting method chosen for the question (see ``counting.official``); ``settings`` carry the
counting rules chosen for it (ranked: ``ranking_rule``, ``stv_transfers``; budget:
``mes_utility``, ``mes_completion``), which ``polls recount`` honours. Counting this file with
``polls recount`` gives the official result exactly, lot order included, since the lot seed is
a digest of the ballots themselves.

Readers return a ``BallotFile``; a malformed file raises ``BallotFileError`` naming the line.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from polls.domain.ballots import Answers, OptionDef, PollDef, QuestionDef, check_ballot
from polls.domain.counting.official import METHODS
from polls.domain.counting.rules import RANKING_RULES, STV_TRANSFERS
from polls.domain.counting.shares_variants import COMPLETIONS, UTILITIES
from polls.domain.questions import QuestionKind
from polls.errors import BallotFileError, ValidationFailed

COUNTING_SETTINGS = {  # header settings the count reads (``counting.rules``, ``shares_variants``)
    "ranking_rule": tuple(RANKING_RULES),
    "stv_transfers": tuple(STV_TRANSFERS),
    "mes_utility": tuple(UTILITIES),
    "mes_completion": tuple(COMPLETIONS),
}
FORMAT = "polls-ballots"
VERSION = 1


@dataclass(frozen=True)
class QuestionBallots:
    question: QuestionDef
    method: str | None  # the method the file asks for, if it names one
    ballots: tuple[tuple[Any, int], ...]  # distinct answers (lists as tuples) and how many gave each
    selected: tuple[int, ...] | None = None  # the options a pabulib file says were funded


@dataclass(frozen=True)
class BallotFile:
    format: str  # "polls-ballots", "preflib", "blt" or "pabulib"
    title: str
    questions: tuple[QuestionBallots, ...]
    notes: tuple[str, ...] = ()  # what a reader could not check, said to whoever recounts


def _hashable(answer: Any) -> Any:
    return tuple(answer) if isinstance(answer, list) else answer


# -- the published ballot file ---------------------------------------------------------------


def write_published(
    poll: PollDef,
    title: str,
    methods: Mapping[int, str],
    ballots: Iterable[Answers],
    shuffle: random.Random | None = None,
) -> str:
    """The published file for a poll's stored ballots (answers as ``check_ballot`` normalised them)."""
    counted = [q for q in poll.questions if q.kind is not QuestionKind.COMMENT]
    header = {
        "format": FORMAT,
        "version": VERSION,
        "poll": {"id": poll.id, "title": title},
        "questions": [
            {
                "id": q.id,
                "kind": q.kind.value,
                "title": q.title,
                "method": methods.get(q.id),
                "settings": dict(q.settings),
                "options": [{"id": o.id, "label": o.label, "cost": o.cost} for o in q.options],
            }
            for q in counted
        ],
    }
    keep = {str(q.id) for q in counted}
    lines = [_compact({k: v for k, v in sorted(a.items()) if k in keep}) for a in ballots]
    (shuffle or random.SystemRandom()).shuffle(lines)
    return "\n".join([_compact(header), *lines]) + "\n"


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def read_published(text: str) -> BallotFile:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise BallotFileError(1, "the file is empty; the first line should describe the poll")
    header = _json_line(lines[0], 1)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BallotFileError(1, f'this is not a published ballot file (no "format": "{FORMAT}")')
    if header.get("version") != VERSION:
        raise BallotFileError(1, f"version {header.get('version')!r} is not one this program reads")
    questions, methods = _questions(header)
    poll = PollDef(id=0, pilot_id=0, area_ids=frozenset(), questions=questions)
    tallies: dict[int, Counter[Any]] = {q.id: Counter() for q in questions}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        raw = _json_line(line, number)
        if not isinstance(raw, dict):
            raise BallotFileError(number, "a ballot must be an object keyed by question id")
        try:
            answers = check_ballot(poll, raw) if raw else {}
        except ValidationFailed as failed:
            problem = failed.errors[0]
            where = problem.field.removeprefix("answers.")
            raise BallotFileError(
                number, f"question {where}: {problem.message}" if where else problem.message
            ) from None
        for key, answer in answers.items():
            tallies[int(key)][_hashable(answer)] += 1
    poll_facts = header.get("poll")
    title = str(poll_facts.get("title", "")) if isinstance(poll_facts, dict) else ""
    items = tuple(QuestionBallots(q, methods[q.id], _in_order(tallies[q.id])) for q in questions)
    return BallotFile(FORMAT, title, items)


def _in_order(tally: Counter[Any]) -> tuple[tuple[Any, int], ...]:
    return tuple(sorted(tally.items(), key=lambda item: _compact(item[0])))


def _json_line(line: str, number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise BallotFileError(number, f"not valid JSON ({exc.msg} at column {exc.colno})") from None


def _questions(header: dict[str, Any]) -> tuple[tuple[QuestionDef, ...], dict[int, str | None]]:
    raw = header.get("questions")
    if not isinstance(raw, list) or not raw:
        raise BallotFileError(1, "the poll lists no questions")
    questions, methods = [], {}
    for n, q in enumerate(raw, start=1):
        where = f"question {n}"
        if not isinstance(q, dict) or not isinstance(q.get("id"), int) or isinstance(q.get("id"), bool):
            raise BallotFileError(1, f"{where} needs a whole-number id")
        try:
            kind = QuestionKind(str(q.get("kind")))
        except ValueError:
            raise BallotFileError(1, f"{where} has an unknown kind {q.get('kind')!r}") from None
        options = []
        for o in q.get("options") or []:
            if not isinstance(o, dict) or not isinstance(o.get("id"), int):
                raise BallotFileError(1, f"{where} has an option without a whole-number id")
            cost = o.get("cost")
            if cost is not None and (not isinstance(cost, int) or cost < 0):
                raise BallotFileError(1, f"{where}: option {o['id']} has a cost that is not a whole number")
            options.append(OptionDef(o["id"], str(o.get("label", o["id"])), cost))
        settings = q.get("settings") or {}
        if not isinstance(settings, dict):
            raise BallotFileError(1, f"{where} has settings that are not an object")
        needed = {QuestionKind.SCALE: ("scale_min", "scale_max"), QuestionKind.BUDGET: ("budget_total",)}
        needed |= {QuestionKind.MULTIPLE: ("min_choices", "max_choices")}
        for key in needed.get(kind, ()):
            if not isinstance(settings.get(key), int):
                raise BallotFileError(1, f"{where} needs the setting {key!r}")
        for key, known in COUNTING_SETTINGS.items():
            if key in settings and settings[key] not in known:
                choices = ", ".join(known)
                raise BallotFileError(1, f"{where}: {key} is one of {choices}, not {settings[key]!r}")
        method = q.get("method")
        if method is not None and method not in METHODS.get(kind, ()):
            raise BallotFileError(1, f"{where}: {method!r} cannot count a {kind.value} question")
        questions.append(QuestionDef(q["id"], kind, str(q.get("title", "")), settings, tuple(options)))
        methods[q["id"]] = method
    if len({q.id for q in questions}) != len(questions):
        raise BallotFileError(1, "two questions share an id")
    return tuple(questions), methods
