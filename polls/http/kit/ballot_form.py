"""The ballot as a form: answers read from its fields and shown back in them. The resident's ballot
and the officers' paper-ballot entry share it."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from polls.domain.ballots import PollDef, ranking_from_positions
from polls.domain.questions import QuestionKind
from polls.errors import FieldError
from polls.http.kit.forms import whole_number
from polls.i18n import _


def answers_from_form(poll: PollDef, form: FormData) -> tuple[dict[str, Any], list[FieldError]]:
    """Form fields q{id} (and q{id}_o{option} for ranks) as the answers check_ballot expects."""
    answers: dict[str, Any] = {}
    problems: list[FieldError] = []
    for question in poll.questions:
        name = f"q{question.id}"
        if question.kind is QuestionKind.RANKED:
            positions: dict[int, int | None] = {}
            for option in question.options:
                raw = str(form.get(f"{name}_o{option.id}", "")).strip()
                positions[option.id] = whole_number(raw, digits=3)
            try:
                ranking = ranking_from_positions(positions)
            except ValueError as exc:
                message = (
                    _("Give each option a different rank")
                    if str(exc) == "duplicate_rank"
                    else _("Use ranks 1, 2, 3 and so on without gaps")
                )
                problems.append(FieldError(name, message))
                continue
            answers[str(question.id)] = ranking
        elif question.kind in (QuestionKind.MULTIPLE, QuestionKind.BUDGET):
            answers[str(question.id)] = [str(v) for v in form.getlist(name)]
        else:
            answers[str(question.id)] = str(form.get(name, ""))
    return answers, problems


def form_values(poll: PollDef, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers back as what each input should show (for re-rendering and the review page)."""
    values: dict[str, Any] = {}
    for question in poll.questions:
        answer = answers.get(str(question.id))
        name = f"q{question.id}"
        if question.kind is QuestionKind.RANKED and isinstance(answer, list):
            for rank, option in enumerate(answer, start=1):
                values[f"{name}_o{option}"] = str(rank)
        elif isinstance(answer, list):
            values[name] = [str(v) for v in answer]
        elif answer is not None:
            values[name] = str(answer)
    return values
