"""Ballots: checking a resident's answers against the poll, and what each ballot adds to the tally.

Answers arrive keyed by question id (as text, since they come from JSON or forms):

    single    option id                     multiple  [option id, ...]
    ranked    [option id, ...] best first   scale     a whole number in the scale
    budget    [option id, ...] within total comment   text up to the maximum length

A question may be left unanswered; a ballot must answer at least one.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from polls.domain.questions import QuestionKind
from polls.domain.trackers import tracker_from_digest
from polls.errors import ErrorCode, FieldError, ValidationFailed
from polls.i18n import _


@dataclass(frozen=True)
class OptionDef:
    id: int
    label: str
    cost: int | None = None


@dataclass(frozen=True)
class QuestionDef:
    id: int
    kind: QuestionKind
    title: str
    settings: Mapping[str, Any]
    options: tuple[OptionDef, ...] = ()
    help_text: str = ""

    @cached_property
    def option_ids(self) -> frozenset[int]:
        return frozenset(o.id for o in self.options)


@dataclass(frozen=True)
class PollDef:
    """What a ballot is checked against: the questions of an open poll, which cannot change."""

    id: int
    pilot_id: int
    area_ids: frozenset[int]  # empty: the whole pilot
    questions: tuple[QuestionDef, ...]
    secrecy_k: int = 10  # live results move in steps of this many ballots (polls.domain.secrecy)
    _by_id: dict[int, QuestionDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({q.id: q for q in self.questions})

    def question(self, question_id: int) -> QuestionDef | None:
        return self._by_id.get(question_id)

    @cached_property
    def _by_key(self) -> dict[str, QuestionDef]:
        return {str(q.id): q for q in self.questions}

    @cached_property
    def _tally_names(self) -> dict[str, _TallyNames]:
        return {str(q.id): _TallyNames(q) for q in self.questions}

    def tally_names(self, question_key: str) -> _TallyNames | None:
        """Counter names for the question whose id is ``question_key`` (as answers key it)."""
        return self._tally_names.get(question_key)


Answers = dict[str, Any]  # normalised: question id (str) -> answer


class _Problems:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.codes: list[ErrorCode] = []

    def add(self, question_id: int | str, code: ErrorCode, message: str) -> None:
        self.errors.append(FieldError(f"answers.{question_id}", message))
        self.codes.append(code)


_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def _int(value: Any) -> int | None:
    """A whole number from JSON or a form field; anything else (and absurdly long digits) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**9 else None
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _option_list(value: Any) -> list[int] | None:
    items = value if isinstance(value, list) else [value]
    out = [_int(v) for v in items]
    return None if any(v is None for v in out) else [v for v in out if v is not None]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a crafted JSON body
        return False
    return True


def check_ballot(poll: PollDef, raw: Any) -> Answers:
    """The normalised answers, or ValidationFailed naming each problem (code: the first problem's)."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed.one(
            "answers", "Send the answers as an object keyed by question", code=ErrorCode.MALFORMED_BALLOT
        )
    problems = _Problems()
    answers: Answers = {}
    for key, value in raw.items():
        question = poll._by_key.get(key)  # the usual case: the key exactly as the form gave it
        if question is None:
            question_id = _int(key)
            question = poll.question(question_id) if question_id is not None else None
        if question is None:
            problems.add(key, ErrorCode.UNKNOWN_QUESTION, _("This poll has no such question"))
            continue
        if value is None or value == "" or value == []:
            continue  # left unanswered
        answer = plainly_valid(question, value)
        if answer is None:
            answer = _check_answer(question, value, problems)
        if answer is not None:
            answers[str(question.id)] = answer
    if not answers and not problems.errors:
        problems.add("", ErrorCode.EMPTY_BALLOT, _("Answer at least one question"))
    if problems.errors:
        raise ValidationFailed(problems.errors, problems.errors[0].message, code=problems.codes[0])
    return answers


def plainly_valid(question: QuestionDef, value: Any) -> Any:
    """The normalised answer when it is plainly valid as JSON sends it (whole numbers, known
    options, no repeats, within the limits), else None: the full check then decides and names
    any problem. Most ballots are plainly valid, and every vote is checked."""
    kind = question.kind
    if kind is QuestionKind.SINGLE:
        if type(value) is int and value in question.option_ids:
            return value
    elif kind is QuestionKind.SCALE:
        settings = question.settings
        if type(value) is int and int(settings["scale_min"]) <= value <= int(settings["scale_max"]):
            return value
    elif kind is QuestionKind.MULTIPLE and type(value) is list and all(type(v) is int for v in value):
        chosen = set(value)
        settings = question.settings
        if (
            len(chosen) == len(value)
            and chosen <= question.option_ids
            and int(settings["min_choices"]) <= len(value) <= int(settings["max_choices"])
        ):
            return sorted(value)
    return None


def _check_answer(question: QuestionDef, value: Any, problems: _Problems) -> Any:
    if question.kind is QuestionKind.COMMENT:
        return _check_comment(question, value, problems)
    if question.kind is QuestionKind.SCALE:
        return _check_scale(question, value, problems)
    chosen = _check_options(question, value, problems)
    if chosen is None:
        return None
    return _check_choice_count(question, chosen, problems)


def _check_comment(question: QuestionDef, value: Any, problems: _Problems) -> str | None:
    qid, settings = question.id, question.settings
    if not isinstance(value, str):
        problems.add(qid, ErrorCode.MALFORMED_ANSWER, _("Write your comment as text"))
        return None
    text = value.strip()
    if _CONTROL.search(text) or not _is_utf8(text):
        problems.add(qid, ErrorCode.MALFORMED_ANSWER, _("Your comment has characters we cannot store"))
        return None
    if len(text) > int(settings["max_length"]):
        problems.add(
            qid,
            ErrorCode.COMMENT_TOO_LONG,
            _("Keep your comment to %(most)s characters") % {"most": settings["max_length"]},
        )
        return None
    return text or None


def _check_scale(question: QuestionDef, value: Any, problems: _Problems) -> int | None:
    point = _int(value)
    low, high = int(question.settings["scale_min"]), int(question.settings["scale_max"])
    if point is None:
        problems.add(question.id, ErrorCode.MALFORMED_ANSWER, _("Choose a point on the scale"))
        return None
    if not low <= point <= high:
        problems.add(
            question.id,
            ErrorCode.OUT_OF_RANGE,
            _("Choose a point from %(low)s to %(high)s") % {"low": low, "high": high},
        )
        return None
    return point


def _check_options(question: QuestionDef, value: Any, problems: _Problems) -> list[int] | None:
    """The options chosen, once each and all of this question (any kind that chooses options)."""
    qid = question.id
    chosen = _option_list(value)
    if chosen is None:
        problems.add(qid, ErrorCode.MALFORMED_ANSWER, _("Choose from the options given"))
        return None
    unknown = [o for o in chosen if o not in question.option_ids]
    if unknown:
        problems.add(qid, ErrorCode.UNKNOWN_OPTION, _("That option is not in this question"))
        return None
    if len(set(chosen)) != len(chosen):
        code = (
            ErrorCode.DUPLICATE_RANK if question.kind is QuestionKind.RANKED else ErrorCode.DUPLICATE_OPTION
        )
        problems.add(qid, code, _("Each option can be chosen only once"))
        return None
    return chosen


def _check_choice_count(question: QuestionDef, chosen: list[int], problems: _Problems) -> Any:
    """How many options (or how much of the budget) this kind of question allows."""
    kind, qid, settings = question.kind, question.id, question.settings
    if kind is QuestionKind.SINGLE:
        if len(chosen) != 1:
            problems.add(qid, ErrorCode.TOO_MANY_CHOICES, _("Choose one option"))
            return None
        return chosen[0]
    if kind is QuestionKind.MULTIPLE:
        low, high = int(settings["min_choices"]), int(settings["max_choices"])
        if len(chosen) > high:
            problems.add(qid, ErrorCode.TOO_MANY_CHOICES, _("Choose at most %(most)s") % {"most": high})
            return None
        if len(chosen) < low:
            problems.add(qid, ErrorCode.TOO_FEW_CHOICES, _("Choose at least %(least)s") % {"least": low})
            return None
        return sorted(chosen)
    if kind is QuestionKind.BUDGET:
        costs = {o.id: o.cost or 0 for o in question.options}
        total = sum(costs[o] for o in chosen)
        if total > int(settings["budget_total"]):
            problems.add(
                qid,
                ErrorCode.OVER_BUDGET,
                _("Your choices cost £%(total)s, more than the £%(budget)s budget")
                % {"total": f"{total:,}", "budget": f"{int(settings['budget_total']):,}"},
            )
            return None
        return sorted(chosen)
    return chosen  # ranked: already checked for unknown and duplicate options


def ranking_from_positions(positions: Mapping[int, int | None]) -> list[int]:
    """Form input "option -> rank number" as a best-first list; gaps or repeats are refused."""
    ranked = {o: r for o, r in positions.items() if r is not None}
    ranks = sorted(ranked.values())
    if len(set(ranks)) != len(ranks):
        raise ValueError("duplicate_rank")
    if ranks != list(range(1, len(ranks) + 1)):
        raise ValueError("missing_rank")
    return [o for o, _ in sorted(ranked.items(), key=lambda item: item[1])]


# One encoder for every ballot: json.dumps with options builds a new one each call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def canonical(poll_id: int, answers: Answers) -> bytes:
    return _CANONICAL.encode({"poll": poll_id, "answers": answers}).encode()


def new_tracker(poll_id: int, answers: Answers) -> str:
    """A hash of the ballot and a random salt: the voter can find it in the public list, and
    nobody can work back from it to the answers (the salt is thrown away). Short enough to read
    out (polls.domain.trackers)."""
    return tracker_from_digest(hashlib.sha256(secrets.token_bytes(16) + canonical(poll_id, answers)).digest())


class _TallyNames:
    """The counter names one question's answers add to, worked out once per open poll."""

    def __init__(self, question: QuestionDef) -> None:
        self.q = q = f"q{question.id}"
        self.kind = question.kind
        self.answered = f"{q}:answered"
        self.option = {o.id: f"{q}:o{o.id}" for o in question.options}
        self.cost = {o.id: o.cost or 0 for o in question.options}
        self.spent = f"{q}:spent"
        self.value_prefix = f"{q}:v"
        self.sum = f"{q}:sum"

    def of_option(self, option_id: int) -> str:
        return self.option.get(option_id) or f"{self.q}:o{option_id}"


def tally_of(poll: PollDef, ballots: Iterable[tuple[Answers, int | None, str]]) -> Counter[str]:
    """What these ballots (answers, area id, channel) add to the counters, a flat map as Redis
    keeps it: a batch just committed, or every stored ballot (what Redis must equal).

    Ballots are first grouped by what each answer counts (a question has a handful of options,
    so answers repeat), and each counter name is then worked out once per distinct answer."""
    places: Counter[tuple[int | None, str]] = Counter()
    questions: dict[str, tuple[_TallyNames, Counter[Any]]] = {}
    for answers, area_id, channel in ballots:
        places[area_id, channel] += 1
        for key, answer in answers.items():
            question = questions.get(key)
            if question is None:
                names = poll.tally_names(key)
                if names is None:
                    continue  # not one of the poll's questions: nothing to count
                question = questions[key] = (names, Counter())
            question[1][_counted_part(question[0].kind, answer)] += 1
    counts: Counter[str] = Counter()
    for (area_id, channel), n in places.items():
        counts["ballots"] += n
        counts[f"area:{area_id if area_id is not None else 'none'}"] += n
        counts[f"channel:{channel}"] += n
    for names, answered in questions.values():
        _add_answers(counts, names, answered)
    return counts


def tally_of_groups(
    poll: PollDef,
    places: Iterable[tuple[int | None, str, int]],
    answered: Mapping[str, Iterable[tuple[Any, int]]],
) -> Counter[str]:
    """The counters tally_of gives, from ballots the database has already grouped: how many
    per (area id, channel), and per question key how many gave each answer (its JSON value)."""
    counts: Counter[str] = Counter()
    for area_id, channel, n in places:
        counts["ballots"] += n
        counts[f"area:{area_id if area_id is not None else 'none'}"] += n
        counts[f"channel:{channel}"] += n
    for key, groups in answered.items():
        names = poll.tally_names(key)
        if names is None:
            continue
        grouped: Counter[Any] = Counter()
        for answer, n in groups:
            grouped[_counted_part(names.kind, answer)] += n
        _add_answers(counts, names, grouped)
    return counts


def _counted_part(kind: QuestionKind, answer: Any) -> Any:
    """The part of an answer the live counts use, hashable: a comment's text is not counted, and
    a ranking counts only its first preference (the count itself is official)."""
    if kind is QuestionKind.SINGLE or kind is QuestionKind.SCALE:
        return answer
    if kind is QuestionKind.MULTIPLE or kind is QuestionKind.BUDGET:
        return tuple(answer)
    if kind is QuestionKind.RANKED:
        return answer[0]
    return None


def _add_answers(counts: Counter[str], names: _TallyNames, answers: Counter[Any]) -> None:
    kind = names.kind
    for answer, n in answers.items():
        counts[names.answered] += n
        if kind is QuestionKind.SINGLE or kind is QuestionKind.RANKED:
            counts[names.of_option(answer)] += n
        elif kind is QuestionKind.MULTIPLE or kind is QuestionKind.BUDGET:
            for option in answer:
                counts[names.of_option(option)] += n
            if kind is QuestionKind.BUDGET:
                counts[names.spent] += n * sum(names.cost.get(o, 0) for o in answer)
        elif kind is QuestionKind.SCALE:
            counts[f"{names.value_prefix}{answer}"] += n
            counts[names.sum] += n * int(answer)


def summarise(poll: PollDef, counts: Mapping[str, int], area_names: Mapping[int, str]) -> dict[str, Any]:
    """Live counts shaped for people: per question and option, turnout per area and channel."""
    questions = []
    for question in poll.questions:
        q = f"q{question.id}"
        item: dict[str, Any] = {
            "id": question.id,
            "kind": question.kind.value,
            "title": question.title,
            "answered": counts.get(f"{q}:answered", 0),
        }
        if question.options:
            item["options"] = [
                {"id": o.id, "label": o.label, "count": counts.get(f"{q}:o{o.id}", 0), "cost": o.cost}
                for o in question.options
            ]
        if question.kind is QuestionKind.RANKED:
            item["counts_are"] = "first preferences"
        if question.kind is QuestionKind.SCALE:
            low, high = int(question.settings["scale_min"]), int(question.settings["scale_max"])
            item["points"] = [{"value": v, "count": counts.get(f"{q}:v{v}", 0)} for v in range(low, high + 1)]
            answered = item["answered"]
            item["mean"] = round(counts.get(f"{q}:sum", 0) / answered, 2) if answered else None
        if question.kind is QuestionKind.BUDGET:
            answered = item["answered"]
            item["average_spent"] = round(counts.get(f"{q}:spent", 0) / answered) if answered else None
            item["budget_total"] = question.settings["budget_total"]
        questions.append(item)
    turnout = [
        {"area_id": area_id, "area": name, "ballots": counts.get(f"area:{area_id}", 0)}
        for area_id, name in area_names.items()
    ]
    channels = {name.split(":", 1)[1]: n for name, n in counts.items() if name.startswith("channel:")}
    return {
        "poll_id": poll.id,
        "ballots": counts.get("ballots", 0),
        "turnout": turnout,
        "channels": channels,
        "questions": questions,
    }
