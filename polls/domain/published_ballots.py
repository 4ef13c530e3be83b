"""The published anonymised ballot file: written when a poll is counted, read by `polls recount`.

Format "polls-ballots", version 1, JSON Lines, UTF-8:

    line 1   the poll and its questions:
             {"format": "polls-ballots", "version": 1, "poll": {"id": 7, "title": "..."},
              "layout": "per_question",
              "questions": [{"id": 31, "kind": "ranked", "title": "...", "method": "stv",
                             "settings": {"seats": 2, "ranking_rule": "scottish", ...},
                             "options": [{"id": 101, "label": "...", "cost": null}, ...]}, ...]}
    then     the counted answers, as stored (single: option id; multiple and budget: sorted
             option ids; ranked: option ids best first; scale: a whole number), by ``layout``:
             "per_question": one answer per line, {"31": [103, 101]}, grouped by question and
                 shuffled within each question on its own, so no line ties one resident's answer
                 to one question to their answer to another (signature ballots);
             "whole_ballot": one ballot per line, {"31": [103, 101], "32": 4}, shuffled; a ballot
                 that answered only comment questions is {}. Files without "layout" are this.
    last     the free-text comments, one per line on their own, never on a ballot's line:
             {"34": "text as reviewed"}, or {"34": "[withheld: abusive]"} for one an officer
             withheld; grouped by question and shuffled within each.

Comment questions are listed in the header with kind "comment" and method null, so readers of
the format check their lines as they check any answer; they are read, not counted. Nothing in
the file carries a code, voter reference, tracker, time, area or channel. ``method`` is the
counting method chosen for the question (see ``counting.official``); ``settings`` carry the
counting rules chosen for it (ranked: ``ranking_rule``, ``stv_transfers``; budget:
``mes_utility``, ``mes_completion``), which ``polls recount`` honours. Counting this file with
``polls recount`` gives the official result exactly, lot order included, since the lot seed is a
digest of each question's answers, which neither layout changes.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from polls.domain.ballots import Answers, OptionDef, PollDef, QuestionDef, check_ballot
from polls.domain.counting.official import METHODS
from polls.domain.counting.rules import RANKING_RULES, STV_TRANSFERS
from polls.domain.counting.shares_variants import COMPLETIONS, UTILITIES
from polls.domain.questions import QuestionKind
from polls.errors import BallotFileError, ValidationFailed
from polls.i18n import N_

COUNTING_SETTINGS = {  # header settings the count reads (``counting.rules``, ``shares_variants``)
    "ranking_rule": tuple(RANKING_RULES),
    "stv_transfers": tuple(STV_TRANSFERS),
    "mes_utility": tuple(UTILITIES),
    "mes_completion": tuple(COMPLETIONS),
}
FORMAT = "polls-ballots"
VERSION = 1


class BallotFileLayout(StrEnum):
    PER_QUESTION = "per_question"
    WHOLE_BALLOT = "whole_ballot"


LAYOUT_LABELS = {
    BallotFileLayout.PER_QUESTION: N_("Each question's answers separately, shuffled on their own"),
    BallotFileLayout.WHOLE_BALLOT: N_("Whole ballots, one per line (answers to every question side by side)"),
}


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


@dataclass(frozen=True)
class PublishedComment:
    question_id: int
    text: str  # as published: the resident's words once reviewed, or "[withheld: ...]"


def _hashable(answer: Any) -> Any:
    return tuple(answer) if isinstance(answer, list) else answer


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def write_published(
    poll: PollDef,
    title: str,
    methods: Mapping[int, str],
    ballots: Iterable[Answers],
    shuffle: random.Random | None = None,
    *,
    layout: BallotFileLayout = BallotFileLayout.PER_QUESTION,
    comments: Sequence[PublishedComment] = (),
) -> str:
    """The published file for a poll's stored ballots (answers as ``check_ballot`` normalised
    them). ``comments`` come in the order to publish them (the caller shuffled them once)."""
    header = published_header(poll, title, methods, layout, comments)
    return assemble(header, counted_lines(poll, ballots, layout, shuffle), comments)


def published_header(
    poll: PollDef,
    title: str,
    methods: Mapping[int, str],
    layout: BallotFileLayout,
    comments: Sequence[PublishedComment] = (),
) -> str:
    longest: Counter[int] = Counter()
    for c in comments:
        longest[c.question_id] = max(longest[c.question_id], len(c.text))
    questions = []
    for q in poll.questions:
        settings = dict(q.settings)
        if q.kind is QuestionKind.COMMENT:
            # "[withheld: ...]" can be longer than a short comment limit; readers check against this
            settings["max_length"] = max(int(settings.get("max_length", 0)), longest[q.id])
        questions.append(
            {
                "id": q.id,
                "kind": q.kind.value,
                "title": q.title,
                "method": methods.get(q.id),
                "settings": settings,
                "options": [{"id": o.id, "label": o.label, "cost": o.cost} for o in q.options],
            }
        )
    poll_facts = {"id": poll.id, "title": title}
    return _compact(
        {
            "format": FORMAT,
            "version": VERSION,
            "poll": poll_facts,
            "layout": layout.value,
            "questions": questions,
        }
    )


def counted_lines(
    poll: PollDef, ballots: Iterable[Answers], layout: BallotFileLayout, shuffle: random.Random | None = None
) -> list[str]:
    """The counted answers' lines, shuffled: whole ballots, or each question's on its own."""
    rng = shuffle or random.SystemRandom()
    counted = [str(q.id) for q in poll.questions if q.kind is not QuestionKind.COMMENT]
    if layout is BallotFileLayout.WHOLE_BALLOT:
        lines = [_compact({k: v for k, v in sorted(a.items()) if k in counted}) for a in ballots]
        _shuffle(lines, rng)
        return lines
    ballots = ballots if isinstance(ballots, Sequence) else list(ballots)
    out: list[str] = []
    for key in counted:
        group = _answer_lines(key, ballots)
        _shuffle(group, rng)
        out += group
    return out


def _answer_lines(key: str, ballots: Iterable[Answers]) -> list[str]:
    """One question's line for each ballot that answered it. Each distinct answer's line is
    written once and shared: a million ballots hold a few thousand distinct answers."""
    written: dict[tuple[type, Any], str] = {}
    lines = []
    for ballot in ballots:
        if key in ballot:
            answer = ballot[key]
            seen = (type(answer), _hashable(answer))
            line = written.get(seen)
            if line is None:
                line = written[seen] = _compact({key: answer})
            lines.append(line)
    return lines


def _shuffle(lines: list[str], rng: random.Random) -> None:
    """Put the lines in a uniformly random order: sorted by 64 random bits each, drawn from
    ``rng`` at once (the system's CSPRNG unless a test seeds one). As unpredictable as
    ``rng.shuffle`` and many times quicker on millions of lines, which it draws for one by one."""
    keys = memoryview(rng.randbytes(8 * len(lines))).cast("Q").tolist()
    order = sorted(range(len(lines)), key=keys.__getitem__)
    lines[:] = [lines[i] for i in order]


def assemble(header: str, counted: Sequence[str], comments: Sequence[PublishedComment]) -> str:
    rows = [_compact({str(c.question_id): c.text}) for c in comments]
    return "\n".join([header, *counted, *rows]) + "\n"


def republish(
    text: str,
    poll: PollDef,
    title: str,
    methods: Mapping[int, str],
    comments_before: int,
    comments: Sequence[PublishedComment],
) -> str:
    """A stored file with a new header (another counting method) or comments (reviewed since):
    its counted lines, their order and its layout stay exactly as they were written."""
    lines = text.splitlines()
    layout = BallotFileLayout(json.loads(lines[0]).get("layout", BallotFileLayout.WHOLE_BALLOT.value))
    header = published_header(poll, title, methods, layout, comments)
    return assemble(header, lines[1 : len(lines) - comments_before], comments)


def read_published(text: str) -> BallotFile:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise BallotFileError(1, "the file is empty; the first line should describe the poll")
    header = _json_line(lines[0], 1)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BallotFileError(1, f'this is not a published ballot file (no "format": "{FORMAT}")')
    if header.get("version") != VERSION:
        raise BallotFileError(1, f"version {header.get('version')!r} is not one this program reads")
    layout = header.get("layout", BallotFileLayout.WHOLE_BALLOT.value)
    if layout not in {v.value for v in BallotFileLayout}:
        raise BallotFileError(1, f"layout {layout!r} is not one this program reads")
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
        needed |= {
            QuestionKind.MULTIPLE: ("min_choices", "max_choices"),
            QuestionKind.COMMENT: ("max_length",),
        }
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
