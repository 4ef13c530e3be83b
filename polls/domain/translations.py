"""Poll content in the other languages a pilot offers, and choosing a resident's language.

The pilot's first language is the one officers write the poll in; translations add the same
texts in each other language. Anything left untranslated shows in the first language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from pydantic import Field

from polls.domain.ballots import PollDef, QuestionDef
from polls.domain.validation import StrictSpec
from polls.errors import FieldError, ValidationFailed

LANGUAGE_NAMES = {"en": "English", "cy": "Cymraeg", "gd": "Gàidhlig", "ga": "Gaeilge"}


class QuestionTranslation(StrictSpec):
    title: str = Field(default="", max_length=300)
    help_text: str = Field(default="", max_length=2000)
    min_label: str = Field(default="", max_length=80)
    max_label: str = Field(default="", max_length=80)
    options: dict[int, str] = {}  # option id -> label


class PollTranslation(StrictSpec):
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=5000)
    questions: dict[int, QuestionTranslation] = {}


def check_ids(spec: PollTranslation, question_options: Mapping[int, Iterable[int]]) -> None:
    """Refuse translations of questions or options the poll does not have."""
    errors = []
    for qid, question in spec.questions.items():
        if qid not in question_options:
            errors.append(FieldError(f"questions.{qid}", "This poll has no such question"))
            continue
        known = set(question_options[qid])
        errors += [
            FieldError(f"questions.{qid}.options.{oid}", "This question has no such option")
            for oid in question.options
            if oid not in known
        ]
    if errors:
        raise ValidationFailed(errors)


def choose_language(offered: list[str], asked: str | None, remembered: str | None, accept: str) -> str:
    """The asked-for language, else the remembered one, else the browser's, else the first offered."""
    for candidate in (asked, remembered):
        if candidate in offered:
            return candidate
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()
        for lang in (code, code.split("-")[0]):
            if lang in offered:
                return lang
    return offered[0] if offered else "en"


def localise(poll: PollDef, texts: Mapping[str, Any], language: str) -> PollDef:
    """The poll definition with titles and labels in ``language`` where translated.

    ``texts`` maps question id -> that question's translations dict and ("option", id) ->
    the option's, as stored; only display fields change, never ids or rules.
    """
    questions = []
    for question in poll.questions:
        mine = (texts.get(f"q{question.id}") or {}).get(language) or {}
        settings = dict(question.settings)
        for label in ("min_label", "max_label"):
            if mine.get(label):
                settings[label] = mine[label]
        options = tuple(
            replace(
                option,
                label=((texts.get(f"o{option.id}") or {}).get(language) or {}).get("label") or option.label,
            )
            for option in question.options
        )
        questions.append(
            QuestionDef(
                id=question.id,
                kind=question.kind,
                title=mine.get("title") or question.title,
                help_text=mine.get("help_text") or question.help_text,
                settings=settings,
                options=options,
            )
        )
    return PollDef(
        id=poll.id,
        pilot_id=poll.pilot_id,
        area_ids=poll.area_ids,
        secrecy_k=poll.secrecy_k,
        questions=tuple(questions),
    )
