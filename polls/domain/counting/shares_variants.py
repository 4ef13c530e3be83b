"""Which Method of Equal Shares to count by: the utility and the completion, as an officer chooses
them for a budget question (its settings ``mes_utility`` and ``mes_completion``) and as a pabulib
file's ``rule`` names them.

Utilities (what a funded project is worth to each of its supporters):

    cost       its cost: the cheapest price per pound of benefit is bought first. What the cities
               that count with equal shares use, and equalshares.net's reference implementation.
    approval   1: the cheapest price per supporter is bought first.

Completions (equal shares alone usually leaves money unspent):

    add1          count again with every voter's share raised by one unit (the reference starts
                  from the whole part of budget / voters: floor + 1, floor + 2, ...) while the
                  outcome still fits the budget; stop at the first outcome that leaves no room for
                  another project, or keep the last that fits. The cities' default.
    add1_exhaust  as add1, but an outcome that leaves no room does not stop the rises: only the
                  first that overspends does (the last that fits is kept).
    add1_greedy   add1, then what is left is filled greedily by votes (utilitarian greedy).
    none          equal shares alone.

A pabulib ``rule`` is ``greedy``, ``approval`` (most supporters, as polls exports such a count)
or ``equalshares`` followed by any of ``/add1``, ``/add1e``,
``/add1u``, ``/none`` (completion) and ``/cost``, ``/approval`` (utility), in any order, each at
most once; what is left out takes the defaults above (cost, add1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UTILITIES = {
    "cost": "cost utilities (a project is worth its cost to each supporter)",
    "approval": "approval utilities (every supported project is worth the same)",
}
COMPLETIONS = {
    "add1": "add1 (shares raised by one while the outcome fits the budget)",
    "add1_exhaust": "add1 with exhaustion (shares raised until the next rise would overspend)",
    "add1_greedy": "add1, then utilitarian greedy for what is left",
    "none": "no completion",
}
DEFAULT_UTILITY, DEFAULT_COMPLETION = "cost", "add1"
_RULE_COMPLETIONS = {"add1": "add1", "add1e": "add1_exhaust", "add1u": "add1_greedy", "none": "none"}
_RULE_UTILITIES = {"cost": "cost", "approval": "approval"}


@dataclass(frozen=True)
class Variant:
    utility: str = DEFAULT_UTILITY
    completion: str = DEFAULT_COMPLETION

    def __post_init__(self) -> None:
        if self.utility not in UTILITIES:
            raise ValueError(f"utility is one of {', '.join(UTILITIES)}, not {self.utility!r}")
        if self.completion not in COMPLETIONS:
            raise ValueError(f"completion is one of {', '.join(COMPLETIONS)}, not {self.completion!r}")

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Variant:
        """A question's variant from its settings (left out: the defaults)."""
        return cls(
            str(settings.get("mes_utility") or DEFAULT_UTILITY),
            str(settings.get("mes_completion") or DEFAULT_COMPLETION),
        )

    def describe(self) -> str:
        return f"{UTILITIES[self.utility]}; completion: {COMPLETIONS[self.completion]}"

    def rule(self) -> str:
        """As a pabulib ``rule``."""
        token = {v: k for k, v in _RULE_COMPLETIONS.items()}[self.completion]
        return f"equalshares/{token}/{self.utility}"


def read_rule(rule: str) -> tuple[str, Variant | None] | None:
    """A pabulib ``rule`` as (method, variant); None when the rule is empty. Raises ValueError
    saying what is wrong with a rule that is not one of the forms above."""
    text = rule.strip().lower()
    if not text:
        return None
    if text in ("greedy", "approval"):  # approval: as polls writes a question counted by supporters
        return text, None
    head, *parts = text.split("/")
    if head.strip() != "equalshares":
        raise ValueError(f"rule {rule!r} is not one polls counts (greedy, or equalshares/...)")
    completion = utility = None
    for part in (p.strip() for p in parts):
        if part in _RULE_COMPLETIONS and completion is None:
            completion = _RULE_COMPLETIONS[part]
        elif part in _RULE_UTILITIES and utility is None:
            utility = _RULE_UTILITIES[part]
        else:
            known = part in _RULE_COMPLETIONS or part in _RULE_UTILITIES
            what = "repeats a choice" if known else "is unknown"
            raise ValueError(
                f"rule {rule!r}: the part {part!r} {what}; "
                "write equalshares[/add1|/add1e|/add1u|/none][/cost|/approval]"
            )
    return "equal_shares", Variant(utility or DEFAULT_UTILITY, completion or DEFAULT_COMPLETION)
