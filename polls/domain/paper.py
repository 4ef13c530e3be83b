"""Paper ballots typed up from a count: a CSV with one row per ballot.

Columns: ``code`` (the short code printed on the voter's poll card) and one column per question,
headed ``q<question id>`` or with the question's exact title. Answers are written as people
read them off paper:

    single    the option's label                   multiple  labels separated by ;
    ranked    labels in order, separated by >      budget    labels separated by ;
    scale     the number ticked                    comment   the text
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from polls.domain.ballots import PollDef, QuestionDef
from polls.domain.questions import QuestionKind


@dataclass(frozen=True)
class PaperRow:
    line: int
    code: str
    answers: dict[str, Any]


@dataclass(frozen=True)
class PaperProblem:
    line: int
    message: str


def _columns(poll: PollDef, header: list[str]) -> tuple[dict[int, QuestionDef], list[str]]:
    by_title = {q.title.strip().casefold(): q for q in poll.questions}
    by_key = {f"q{q.id}": q for q in poll.questions}
    columns: dict[int, QuestionDef] = {}
    unknown = []
    for index, name in enumerate(header):
        key = name.strip()
        if key.lower() == "code":
            continue
        question = by_key.get(key.lower()) or by_title.get(key.casefold())
        if question is None:
            unknown.append(key)
        else:
            columns[index] = question
    return columns, unknown


def _answer(question: QuestionDef, text: str) -> Any:
    """Raises ValueError with a plain message when the text names no option."""
    labels = {o.label.strip().casefold(): o.id for o in question.options}

    def option(label: str) -> int:
        found = labels.get(label.strip().casefold())
        if found is None:
            raise ValueError(f"'{label.strip()}' is not an option of “{question.title}”")
        return found

    if question.kind is QuestionKind.SINGLE:
        return option(text)
    if question.kind in (QuestionKind.MULTIPLE, QuestionKind.BUDGET):
        return [option(part) for part in text.split(";") if part.strip()]
    if question.kind is QuestionKind.RANKED:
        return [option(part) for part in text.split(">") if part.strip()]
    if question.kind is QuestionKind.SCALE:
        if not text.strip().lstrip("-").isdigit():
            raise ValueError(f"“{question.title}” needs a number, not '{text.strip()}'")
        return int(text.strip())
    return text


def parse_paper_csv(poll: PollDef, text: str) -> tuple[list[PaperRow], list[PaperProblem]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header or "code" not in [h.strip().lower() for h in header]:
        return [], [PaperProblem(1, "The first row must name the columns, including 'code'")]
    code_at = [h.strip().lower() for h in header].index("code")
    columns, unknown = _columns(poll, header)
    if unknown:
        return [], [PaperProblem(1, "Columns that match no question: " + ", ".join(unknown))]
    rows: list[PaperRow] = []
    problems: list[PaperProblem] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problems.append(PaperProblem(number, "This row has more columns than the header"))
            continue
        answers: dict[str, Any] = {}
        try:
            for index, question in columns.items():
                cell = cells[index] if index < len(cells) else ""
                if cell.strip():
                    answers[str(question.id)] = _answer(question, cell)
        except ValueError as exc:
            problems.append(PaperProblem(number, str(exc)))
            continue
        code = cells[code_at].strip() if code_at < len(cells) else ""
        if not code:
            problems.append(PaperProblem(number, "The code is missing"))
            continue
        rows.append(PaperRow(number, code, answers))
    if not rows and not problems:
        problems.append(PaperProblem(1, "The file has no ballots"))
    return rows, problems


def as_written(poll: PollDef, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """A ballot's answers as (question title, text) in the notation the CSV uses, so an officer
    can check a held batch against the paper in front of them."""
    written = []
    for question in poll.questions:
        answer = answers.get(str(question.id))
        if answer is None:
            continue
        labels = {o.id: o.label for o in question.options}
        if question.kind is QuestionKind.SINGLE:
            text = labels.get(answer, str(answer))
        elif question.kind is QuestionKind.RANKED:
            text = " > ".join(labels.get(a, str(a)) for a in answer)
        elif question.kind in (QuestionKind.MULTIPLE, QuestionKind.BUDGET):
            text = "; ".join(labels.get(a, str(a)) for a in answer)
        else:
            text = str(answer)
        written.append((question.title, text))
    return written
