"""The official count of one question: which methods suit which kind of question, and running one.

Ballots arrive as (answer, number of ballots) pairs, answers in the normalised form
``ballots.check_ballot`` stores (a ballot that left the question unanswered is simply absent).
Each question kind has a usual method, used when none was chosen for the question.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from polls.domain.ballots import QuestionDef
from polls.domain.counting.approval import ApprovalResult, approval
from polls.domain.counting.borda import BordaResult, borda
from polls.domain.counting.budget import BudgetBallots, GreedyResult, greedy
from polls.domain.counting.condorcet import CondorcetResult, condorcet
from polls.domain.counting.equal_shares import EqualSharesResult, equal_shares
from polls.domain.counting.instant_runoff import InstantRunoffResult, instant_runoff
from polls.domain.counting.meek import MeekResult, meek
from polls.domain.counting.plurality import PluralityResult, plurality
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.rules import DEFAULT_RANKING_RULE
from polls.domain.counting.scale import ScaleResult, scale
from polls.domain.counting.schulze import SchulzeResult, schulze
from polls.domain.counting.shares_variants import Variant
from polls.domain.counting.stv import STVResult, stv
from polls.domain.questions import QuestionKind

Result = (
    PluralityResult
    | ApprovalResult
    | InstantRunoffResult
    | STVResult
    | MeekResult
    | BordaResult
    | CondorcetResult
    | SchulzeResult
    | ScaleResult
    | GreedyResult
    | EqualSharesResult
)

METHODS: dict[QuestionKind, tuple[str, ...]] = {
    QuestionKind.SINGLE: ("plurality",),
    QuestionKind.MULTIPLE: ("approval",),
    QuestionKind.RANKED: ("instant_runoff", "stv", "borda", "condorcet", "schulze", "plurality"),
    QuestionKind.SCALE: ("scale",),
    QuestionKind.BUDGET: ("greedy", "equal_shares", "approval"),
}
ALL_METHODS = tuple(dict.fromkeys(m for methods in METHODS.values() for m in methods))


class MethodNotAvailable(ValueError):
    """The method cannot count this kind of question."""


def usual_method(question: QuestionDef, seats: int | None = None) -> str:
    if question.kind is QuestionKind.RANKED:
        return "instant_runoff" if _seats(question, seats) == 1 else "stv"
    if question.kind is QuestionKind.COMMENT:
        raise MethodNotAvailable("comments are read, not counted")
    return METHODS[question.kind][0]


def count(
    question: QuestionDef,
    ballots: Iterable[tuple[Any, int]],
    method: str | None = None,
    seats: int | None = None,
) -> Result:
    """The result of one question by ``method`` (its usual method when None)."""
    method = method or usual_method(question, seats)
    if method not in METHODS.get(question.kind, ()):
        raise MethodNotAvailable(f"{method} cannot count a {question.kind.value} question")
    options = [o.id for o in question.options]
    if question.kind is QuestionKind.SCALE:
        low, high = int(question.settings["scale_min"]), int(question.settings["scale_max"])
        return scale(low, high, ballots)
    if question.kind is QuestionKind.SINGLE:
        return plurality(options, ballots)
    if question.kind is QuestionKind.MULTIPLE or method == "approval":
        return approval(options, ballots)
    if question.kind is QuestionKind.BUDGET:
        costed = [(o.id, o.cost or 0) for o in question.options]
        budget = BudgetBallots.weighted(costed, int(question.settings["budget_total"]), ballots)
        if method == "greedy":
            return greedy(budget)
        return equal_shares(budget, Variant.of(question.settings))
    settings = question.settings
    rule = str(settings.get("ranking_rule") or DEFAULT_RANKING_RULE)
    ranked = RankedBallots.weighted(options, ballots, rule)
    if method == "instant_runoff":
        return instant_runoff(ranked)
    if method == "stv" and settings.get("stv_transfers") == "meek":
        return meek(ranked, _seats(question, seats))
    if method == "stv":
        return stv(ranked, _seats(question, seats))
    if method == "borda":
        return borda(ranked.strict())
    if method == "condorcet":
        return condorcet(ranked.strict())
    if method == "schulze":
        return schulze(ranked.strict())
    return plurality(options, ranked.strict().first_preferences().items())


def _seats(question: QuestionDef, seats: int | None) -> int:
    return seats if seats is not None else int(question.settings.get("seats") or 1)
