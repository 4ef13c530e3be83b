"""The draw's public randomness, named when the lottery is published so nobody can choose it later.

Whoever knows the secret seed can compute the panel any public randomness gives, so if the value
could be chosen at the draw they could try values until the panel suits them. The source is
therefore fixed, and published, with the selection probabilities:

- ``lottery``: the main numbers of a named public lottery draw on a date after publication. The
  numbers are recorded as entered; anyone can compare them with the lottery's official result.
- ``dice``: dice rolls by two to ten named people, each of whom wrote their rolls followed by a
  secret word of their own (so the hash cannot be guessed) and gave the SHA-256 of that text
  before publication. At the draw each reveals their text, which must hash to their commitment.

The value fed to the draw (``public_value``) is, for dice, the revealed texts joined by newlines
in the published order; for a lottery, ``lottery <name> <date>:`` and the numbers, ascending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from polls.domain.validation import StrictSpec, parse
from polls.errors import ErrorCode, FieldError, ValidationFailed

MAX_REVEAL = 500  # characters in one revealed text
_HEX = r"^[0-9a-fA-F]{64}$"


class DicePerson(StrictSpec):
    name: str = Field(min_length=1, max_length=60)
    sha256: str = Field(pattern=_HEX)


class DiceSource(StrictSpec):
    kind: Literal["dice"]
    people: list[DicePerson] = Field(min_length=2, max_length=10)

    @model_validator(mode="after")
    def _distinct(self) -> DiceSource:
        if len({p.name.strip().casefold() for p in self.people}) != len(self.people):
            raise ValueError("Give each person a different name")
        if len({p.sha256.lower() for p in self.people}) != len(self.people):
            raise ValueError("Each person's commitment must be different (each adds a secret word)")
        return self


class LotterySource(StrictSpec):
    kind: Literal["lottery"]
    name: str = Field(min_length=3, max_length=120)
    date: dt.date


RandomnessSource = Annotated[DiceSource | LotterySource, Field(discriminator="kind")]


class PublishSpec(StrictSpec):
    randomness: RandomnessSource


def hash_reveal(text: str) -> str:
    """SHA-256 (hex) of a revealed text's UTF-8, without surrounding whitespace."""
    return hashlib.sha256(text.strip().encode()).hexdigest()


def fix_source(spec: PublishSpec, published: dt.datetime) -> dict[str, Any]:
    """The source as published (JSON), or ValidationFailed: a lottery draw must come after today."""
    source = spec.randomness
    if isinstance(source, LotterySource):
        if source.date <= published.date():
            raise ValidationFailed.one(
                "randomness.date",
                "Name a lottery draw on a later date than today, so nobody can know its numbers yet",
                code=ErrorCode.RANDOMNESS_NOT_FUTURE,
            )
        return {"kind": "lottery", "name": source.name.strip(), "date": source.date.isoformat()}
    people = [{"name": p.name.strip(), "sha256": p.sha256.lower()} for p in source.people]
    return {"kind": "dice", "people": people}


def read_source(data: Mapping[str, Any]) -> DiceSource | LotterySource:
    return parse(PublishSpec, {"randomness": data}).randomness


def public_value(source: Mapping[str, Any], reveals: Sequence[str], *, today: dt.date | None = None) -> str:
    """What the draw uses, from the texts revealed at the draw; ValidationFailed (nothing drawn)
    when they do not match the published source. ``today`` (a lottery source) must be on or after
    the lottery's date: its numbers cannot be known before."""
    problems = reveal_problems(source, reveals, today=today)
    if problems:
        raise ValidationFailed(
            [FieldError(field, message) for field, message in problems],
            problems[0][1],
            code=ErrorCode.RANDOMNESS_MISMATCH,
        )
    parsed = read_source(source)
    if isinstance(parsed, DiceSource):
        return "\n".join(r.strip() for r in reveals)
    numbers = sorted(int(n) for n in re.findall(r"\d+", reveals[0]))
    return f"lottery {parsed.name} {parsed.date.isoformat()}: " + " ".join(map(str, numbers))


def reveal_problems(
    source: Mapping[str, Any], reveals: Sequence[str], *, today: dt.date | None = None
) -> list[tuple[str, str]]:
    """Each (field, problem) that stops ``reveals`` matching the published ``source``."""
    parsed = read_source(source)
    if isinstance(parsed, LotterySource):
        if len(reveals) != 1 or not re.search(r"\d", reveals[0]) or len(reveals[0]) > MAX_REVEAL:
            return [("reveals.0", f"Enter the main numbers drawn in {parsed.name} on {parsed.date}")]
        if today is not None and today < parsed.date:
            return [("reveals.0", f"{parsed.name} is not drawn until {parsed.date}: wait for its numbers")]
        return []
    if len(reveals) != len(parsed.people):
        return [("reveals", f"Enter what each of the {len(parsed.people)} people reveals")]
    return [
        (f"reveals.{n}", f"What {person.name} revealed does not match the SHA-256 they committed to")
        for n, (person, text) in enumerate(zip(parsed.people, reveals, strict=True))
        if len(text) > MAX_REVEAL or hash_reveal(text) != person.sha256.lower()
    ]


def describe(source: Mapping[str, Any]) -> str:
    """The source in plain words, for the public page and the command line."""
    parsed = read_source(source)
    if isinstance(parsed, LotterySource):
        return f"the main numbers of {parsed.name} drawn on {parsed.date.isoformat()}"
    names = ", ".join(p.name for p in parsed.people)
    return f"dice rolls by {names}, each committed as a SHA-256 hash before publication"


def record_problems(source: Mapping[str, Any] | None, record: Any) -> list[str]:
    """Why a draw record's public randomness is not the committed one (empty when it is).

    ``record.randomness`` is ``{"source": ..., "reveals": [...]}`` or None; ``source``, when given,
    is the source published with the lottery (the record's own copy must equal it)."""
    randomness = record.randomness
    if randomness is None:
        if source is not None:
            return ["the draw record names no public randomness, but a source was published for it"]
        if record.public_randomness:
            return ["the draw used public randomness that was not committed to before the draw"]
        return []
    if source is not None and dict(randomness["source"]) != dict(source):
        return ["the draw record's randomness source is not the one published with the lottery"]
    try:
        value = public_value(randomness["source"], list(randomness["reveals"]))
    except ValidationFailed as exc:
        return [f"the revealed randomness does not match the commitment: {e.message}" for e in exc.errors]
    if value != record.public_randomness:
        return ["the draw used public randomness other than the revealed values"]
    return []
