"""The six kinds of question a poll can ask, and the settings each kind needs."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from polls.domain.counting.rules import RANKING_RULES, STV_TRANSFERS
from polls.domain.counting.shares_variants import COMPLETIONS, UTILITIES
from polls.domain.validation import StrictSpec
from polls.i18n import N_


class QuestionKind(StrEnum):
    SINGLE = "single"  # choose one
    MULTIPLE = "multiple"  # choose between min and max (approval when min is 0)
    RANKED = "ranked"  # rank options; 1 seat = instant runoff, more = STV
    SCALE = "scale"  # a point on a scale (Likert)
    BUDGET = "budget"  # allocate a budget across costed options
    COMMENT = "comment"  # free text


KIND_LABELS = {
    QuestionKind.SINGLE: N_("Single choice"),
    QuestionKind.MULTIPLE: N_("Multiple choice or approval"),
    QuestionKind.RANKED: N_("Ranked (instant runoff or STV)"),
    QuestionKind.SCALE: N_("Scale (Likert)"),
    QuestionKind.BUDGET: N_("Budget allocation"),
    QuestionKind.COMMENT: N_("Free-text comment"),
}

WITH_OPTIONS = {
    QuestionKind.SINGLE,
    QuestionKind.MULTIPLE,
    QuestionKind.RANKED,
    QuestionKind.BUDGET,
}
MAX_OPTIONS = 100


_COUNTING_CHOICES = {
    "ranking_rule": (tuple(RANKING_RULES), "The rule for tied or skipped ranks"),
    "stv_transfers": (tuple(STV_TRANSFERS), "The surplus transfer method"),
    "mes_utility": (tuple(UTILITIES), "The utility"),
    "mes_completion": (tuple(COMPLETIONS), "The completion"),
}


class OptionSpec(StrictSpec):
    label: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    cost: int | None = Field(default=None, ge=1, le=10**12)  # budget questions, whole pounds


class QuestionSpec(StrictSpec):
    """A question as an officer drafts it. Fields that do not apply to its kind must be left out."""

    kind: QuestionKind
    title: str = Field(min_length=3, max_length=300)
    help_text: str = Field(default="", max_length=2000)
    options: list[OptionSpec] = Field(default=[], max_length=MAX_OPTIONS)
    min_choices: int | None = Field(default=None, ge=0)
    max_choices: int | None = Field(default=None, ge=1)
    seats: int | None = Field(default=None, ge=1)
    scale_min: int | None = Field(default=None, ge=-100, le=100)
    scale_max: int | None = Field(default=None, ge=-100, le=100)
    min_label: str = Field(default="", max_length=80)
    max_label: str = Field(default="", max_length=80)
    budget_total: int | None = Field(default=None, ge=1, le=10**12)
    ranking_rule: str | None = None  # ranked: tied or skipped ranks (counting.rules)
    stv_transfers: str | None = None  # ranked: how STV transfers surpluses
    mes_utility: str | None = None  # budget: the Method of Equal Shares' utility and completion
    mes_completion: str | None = None
    max_length: int | None = Field(default=None, ge=1, le=10_000)

    @field_validator("ranking_rule", "stv_transfers", "mes_utility", "mes_completion")
    @classmethod
    def _known_counting_rule(cls, value: str | None, info: ValidationInfo) -> str | None:
        known, what = _COUNTING_CHOICES[str(info.field_name)]
        if value is not None and value not in known:
            raise ValueError(f"{what} is one of {', '.join(known)}, not {value!r}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        """Fill the defaults a kind implies, so a minimal body is enough."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        kind = data.get("kind")
        defaults: dict[str, Any] = {}
        if kind == QuestionKind.MULTIPLE:
            defaults = {"min_choices": 0, "max_choices": len(data.get("options") or []) or 1}
        elif kind == QuestionKind.RANKED:
            defaults = {"seats": 1, "ranking_rule": "scottish", "stv_transfers": "scottish"}
        elif kind == QuestionKind.BUDGET:
            defaults = {"mes_utility": "cost", "mes_completion": "add1"}
        elif kind == QuestionKind.SCALE:
            defaults = {"scale_min": 1, "scale_max": 5}
        elif kind == QuestionKind.COMMENT:
            defaults = {"max_length": 1000}
        for key, value in defaults.items():
            if data.get(key) is None:  # an explicit null means "the usual", like leaving it out
                data[key] = value
        return data

    @model_validator(mode="after")
    def _fits_its_kind(self) -> QuestionSpec:
        kind = self.kind
        problems: list[str] = []
        n = len(self.options)
        if kind in WITH_OPTIONS:
            if n < 2:
                problems.append("Give at least 2 options")
            labels = [o.label.casefold() for o in self.options]
            if len(set(labels)) != len(labels):
                problems.append("Each option needs a different label")
        elif n:
            problems.append(f"A {KIND_LABELS[kind].lower()} question has no options")
        costs = [o.cost for o in self.options]
        if kind == QuestionKind.BUDGET:
            if any(c is None for c in costs):
                problems.append("Give every option a cost")
            if self.budget_total is None:
                problems.append("Give the total budget")
            elif any(c is not None and c > self.budget_total for c in costs):
                problems.append("No option may cost more than the total budget")
        elif any(c is not None for c in costs):
            problems.append("Only budget questions have costs")
        if kind == QuestionKind.MULTIPLE:
            lo, hi = self.min_choices or 0, self.max_choices or 1
            if lo > hi:
                problems.append("The minimum number of choices cannot exceed the maximum")
            if n >= 2 and hi > n:
                problems.append(f"The maximum number of choices cannot exceed the {n} options")
        if kind == QuestionKind.RANKED and n >= 2 and (self.seats or 1) >= n:
            problems.append("There must be more options than seats")
        if kind == QuestionKind.SCALE:
            lo, hi = self.scale_min or 0, self.scale_max or 0
            if hi <= lo:
                problems.append("The top of the scale must be above the bottom")
            elif hi - lo > 20:
                problems.append("A scale can have at most 21 points")
        self._no_foreign_settings(problems)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _no_foreign_settings(self, problems: list[str]) -> None:
        owned = {
            "min_choices": QuestionKind.MULTIPLE,
            "max_choices": QuestionKind.MULTIPLE,
            "seats": QuestionKind.RANKED,
            "scale_min": QuestionKind.SCALE,
            "scale_max": QuestionKind.SCALE,
            "budget_total": QuestionKind.BUDGET,
            "ranking_rule": QuestionKind.RANKED,
            "stv_transfers": QuestionKind.RANKED,
            "mes_utility": QuestionKind.BUDGET,
            "mes_completion": QuestionKind.BUDGET,
            "max_length": QuestionKind.COMMENT,
        }
        for name, kind in owned.items():
            if getattr(self, name) is not None and self.kind != kind:
                problems.append(f"'{name}' only applies to {KIND_LABELS[kind].lower()} questions")
        if (self.min_label or self.max_label) and self.kind != QuestionKind.SCALE:
            problems.append("Scale labels only apply to scale questions")

    def settings(self) -> dict[str, Any]:
        """The kind-specific settings, as stored with the question."""
        keys = {
            QuestionKind.MULTIPLE: ("min_choices", "max_choices"),
            QuestionKind.RANKED: ("seats", "ranking_rule", "stv_transfers"),
            QuestionKind.SCALE: ("scale_min", "scale_max", "min_label", "max_label"),
            QuestionKind.BUDGET: ("budget_total", "mes_utility", "mes_completion"),
            QuestionKind.COMMENT: ("max_length",),
        }.get(self.kind, ())
        return {k: getattr(self, k) for k in keys}
