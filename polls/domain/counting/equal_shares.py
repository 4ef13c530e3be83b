"""Method of Equal Shares (MES) for budget questions, as equalshares.net's reference implementation
counts it, with the utility and completion chosen for the question (``shares_variants``).

1. The budget is shared equally: each voter gets budget / voters (a ballot supporting nothing
   still has a share, which simply goes unspent).
2. A project can be bought if its supporters' remaining money covers its cost. Its price per
   supporter is the smallest amount p such that every supporter pays p, or all they have left if
   that is less, and the payments add up to the cost.
3. Buy the project with the largest *effective vote count*: cost / p with cost utilities (the
   lowest price per pound of benefit), 1 / p with approval utilities (the lowest price per
   supporter); charge its supporters; repeat until no project can be bought.
4. Equal effective vote counts (within one part in 10^9, as the money is worked in floating point)
   go, as in the reference, to the cheaper project, then to the one with more supporters; still
   equal, they are taken in lot order. Every such tie is recorded.

Completion (see ``shares_variants``): the count is repeated with each voter's share at
floor(budget / voters) + 1, + 2, ... Where the reference implementation would run for ever (a
project nobody supports still fits, and every supported project is already bought, so no rise
changes anything) the rises stop, with the same outcome. They also stop after 10,000 rises,
which only a project whose few supporters could never afford it would need; the result says how
many rises were made and why they stopped.

Differences from the reference, both as pabutools does: a project costing nothing that someone
supports is bought at once (the reference never buys it); a tie the reference cannot settle
(it stops with an error) is decided by lot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from polls.domain.counting.budget import BudgetBallots, GreedyStep, fill_greedily, greedy
from polls.domain.counting.shares_variants import Variant
from polls.domain.counting.ties import Lot, Tie

CLOSE = 1e-9  # prices this close (relatively) are equal: floating point cannot tell them apart
MAX_RISES = 10_000
Money = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Purchase:
    project: int
    cost: int
    price: float  # the most any supporter paid (the price per supporter)
    supporters: int
    paid_everything: int  # supporters who paid all they had left


@dataclass(frozen=True)
class Difference:
    """A project that a greedy count by votes would treat differently, and why."""

    project: int
    votes: int
    cost: int
    funded_by_greedy: bool
    reason: str


@dataclass(frozen=True)
class EqualSharesResult:
    method: str
    utility: str  # "cost" or "approval"
    completion: str  # "add1", "add1_exhaust", "add1_greedy" or "none"
    variant: str  # the two in words
    budget: int
    ballots: int
    votes: dict[int, int]
    share: float  # each voter's share in the run whose outcome was kept
    rises: int  # times the share was raised by one
    stopped: str  # why the rises stopped ("" without completion)
    purchases: tuple[Purchase, ...]  # bought by equal shares, in order
    completed: tuple[GreedyStep, ...]  # the greedy completion (add1_greedy only)
    funded: tuple[int, ...]  # equal shares first, then completion
    spent: int
    greedy_funded: tuple[int, ...]  # what a greedy count by votes would fund
    differences: tuple[Difference, ...]
    ties: tuple[Tie, ...]
    lot: Lot


@dataclass(frozen=True)
class _Run:
    bought: list[Purchase]
    ties: list[Tie]
    money: Money  # each group's money left per voter at the end


class _Voters:
    """Voters grouped by identical ballots, with each project's supporting groups."""

    def __init__(self, ballots: BudgetBallots, utility: str) -> None:
        self.ballots = ballots
        self.weight: Ints = np.array([n for _, n in ballots.approvals], dtype=np.int64)
        groups: dict[int, list[int]] = {p: [] for p in ballots.projects}
        for g, (chosen, _) in enumerate(ballots.approvals):
            for project in chosen:
                groups[project].append(g)
        self.supporters = {p: np.array(gs, dtype=np.int64) for p, gs in groups.items()}
        self.backing = {p: int(self.weight[gs].sum()) for p, gs in self.supporters.items()}
        # the price per unit of benefit is price / worth; the effective vote count is cost / that
        self.worth = {p: float(ballots.costs[p]) if utility == "cost" else 1.0 for p in ballots.projects}
        self.candidates = [p for p in ballots.projects if self.backing[p] > 0]

    def run(self, share: float, lot: Lot, rise: int) -> _Run:
        costs = self.ballots.costs
        money: Money = np.full(len(self.weight), share, dtype=np.float64)
        free = [p for p in self.candidates if costs[p] == 0]  # nothing to pay: bought at once
        bought = [Purchase(p, 0, 0.0, self.backing[p], 0) for p in free]
        ties: list[Tie] = []
        # prices only rise as money is spent, so the last rate seen is a floor for the next
        floor = {p: costs[p] / (self.backing[p] * self.worth[p]) for p in self.candidates if costs[p]}
        while floor:
            best, best_at, found = np.inf, [], {}
            for p in sorted(floor, key=lambda p: (floor[p], lot.place(p))):
                if floor[p] > best * (1 + CLOSE):
                    break
                purchase = self._price(p, money)
                if purchase is None:
                    del floor[p]  # its supporters can no longer afford it, and never will
                    continue
                found[p] = purchase
                rate = floor[p] = purchase.price / self.worth[p]
                if rate < best * (1 - CLOSE):
                    best, best_at = rate, [p]
                elif rate <= best * (1 + CLOSE):
                    best_at.append(p)
            if not best_at:
                break
            chosen, tie = self._break(best_at, lot, rise)
            ties += [tie] if tie else []
            group = self.supporters[chosen]
            money[group] -= np.minimum(money[group], found[chosen].price)
            bought.append(found[chosen])
            del floor[chosen]
        return _Run(bought, ties, money)

    def _break(self, tied: list[int], lot: Lot, rise: int) -> tuple[int, Tie | None]:
        """The reference's order: the cheaper project, then the one with more supporters."""
        if len(tied) == 1:
            return tied[0], None
        among = tuple(sorted(tied, key=lot.place))
        costs = self.ballots.costs
        cheapest = [p for p in among if costs[p] == min(costs[q] for q in among)]
        if len(cheapest) == 1:
            return cheapest[0], Tie(rise, "lowest price", among, "lower cost", cheapest[0])
        most = [p for p in cheapest if self.backing[p] == max(self.backing[q] for q in cheapest)]
        if len(most) == 1:
            return most[0], Tie(rise, "lowest price", among, "more supporters", most[0])
        chosen = lot.winner(most)
        return chosen, Tie(rise, "lowest price", among, "lot", chosen)

    def _price(self, project: int, money: Money) -> Purchase | None:
        cost = self.ballots.costs[project]
        group = self.supporters[project]
        have, weight = money[group], self.weight[group]
        if float(np.dot(have, weight)) < cost * (1 - CLOSE):
            return None
        order = np.argsort(have, kind="stable")
        have, weight = have[order], weight[order]
        # if the poorest k supporters pay everything they have, the rest share what remains equally
        paid_by_poorer = np.concatenate(([0.0], np.cumsum(have * weight)[:-1]))
        richer = self.backing[project] - np.concatenate(([0], np.cumsum(weight)[:-1]))
        price = (cost - paid_by_poorer) / richer
        enough = price <= have
        k = int(np.argmax(enough)) if enough.any() else len(have) - 1
        return Purchase(project, cost, float(price[k]), self.backing[project], int(weight[:k].sum()))

    def cost_of(self, run: _Run) -> int:
        return sum(self.ballots.costs[p.project] for p in run.bought)

    def leaves_no_room(self, run: _Run) -> bool:
        """The reference's test: no other listed project fits in what is left."""
        costs, budget = self.ballots.costs, self.ballots.budget
        taken = {p.project for p in run.bought}
        left = budget - self.cost_of(run)
        return all(costs[p] > left for p in self.ballots.projects if p not in taken)

    def bought_everything(self, run: _Run) -> bool:
        return len(run.bought) == len(self.candidates)


def equal_shares(
    ballots: BudgetBallots, variant: Variant | None = None, *, lot: Lot | None = None
) -> EqualSharesResult:
    variant = variant or Variant()
    lot = lot or ballots.lot()
    voters = _Voters(ballots, variant.utility)
    budget, n = ballots.budget, ballots.voters
    share = budget / n if n else 0.0
    kept = voters.run(share, lot, 0)
    rises, stopped = 0, ""
    if variant.completion != "none" and n:
        rises, stopped, kept = _raise(voters, variant, kept, lot)
        share = math.floor(budget / n) + rises if rises else share
    by_shares = tuple(p.project for p in kept.bought)
    completed: tuple[GreedyStep, ...] = ()
    ties = list(kept.ties)
    if variant.completion == "add1_greedy":
        left = budget - voters.cost_of(kept)
        completed, greedy_ties = fill_greedily(ballots, by_shares, left, lot, stage=-1)
        ties += list(greedy_ties)
    funded = by_shares + tuple(s.project for s in completed if s.funded)
    by_votes = greedy(ballots, lot).funded
    return EqualSharesResult(
        method="equal_shares",
        utility=variant.utility,
        completion=variant.completion,
        variant=variant.describe(),
        budget=budget,
        ballots=n,
        votes=ballots.votes(),
        share=share,
        rises=rises,
        stopped=stopped,
        purchases=tuple(kept.bought),
        completed=completed,
        funded=funded,
        spent=sum(ballots.costs[p] for p in funded),
        greedy_funded=by_votes,
        differences=_differences(voters, kept, funded, by_votes),
        ties=tuple(ties),
        lot=lot,
    )


def _raise(voters: _Voters, variant: Variant, kept: _Run, lot: Lot) -> tuple[int, str, _Run]:
    """The add1 rises: how many were kept, why they stopped, and the outcome kept."""
    budget, n = voters.ballots.budget, voters.ballots.voters
    base = math.floor(budget / n)
    rises = 0
    while True:
        if variant.completion != "add1_exhaust" and voters.leaves_no_room(kept):
            return rises, "the outcome leaves no room for another project", kept
        if voters.bought_everything(kept):
            return rises, "every supported project is bought", kept
        if rises >= MAX_RISES:
            return rises, f"stopped after {MAX_RISES} rises", kept
        more = voters.run(float(base + rises + 1), lot, rises + 1)
        if voters.cost_of(more) > budget:
            return rises, "the next rise would overspend the budget", kept
        rises, kept = rises + 1, more


def _differences(
    voters: _Voters, kept: _Run, funded: tuple[int, ...], by_votes: tuple[int, ...]
) -> tuple[Difference, ...]:
    """Why each project that a greedy count treats differently is or is not funded here."""
    costs, votes = voters.ballots.costs, voters.ballots.votes()
    by_shares = {p.project for p in kept.bought}
    out = []
    for p in voters.ballots.projects:
        if (p in funded) == (p in by_votes):
            continue
        who = f"its {votes[p]} supporter{'s' if votes[p] != 1 else ''}"
        if p in by_votes:
            left = float(np.dot(kept.money[voters.supporters[p]], voters.weight[voters.supporters[p]]))
            reason = (
                f"{who} had {left:,.2f} left of their equal shares, less than its cost of {costs[p]:,}, "
                "after paying for other projects they supported"
            )
        elif p in by_shares:
            reason = (
                f"{who} could pay its cost of {costs[p]:,} from their own equal shares; "
                "a greedy count spends the money on projects with more votes first"
            )
        else:
            reason = "it fitted in what equal shares left, when the rest was filled by votes"
        out.append(Difference(p, votes[p], costs[p], p in by_votes, reason))
    return tuple(out)
