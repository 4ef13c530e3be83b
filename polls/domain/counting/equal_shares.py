"""Method of Equal Shares (MES) for budget questions, with the usual completion.

The method, as equalshares.net and pabutools define it for approval ballots:

1. The budget is shared equally: each voter gets budget / voters (a ballot supporting nothing
   still has a share, which simply goes unspent).
2. A project can be bought if its supporters' remaining money covers its cost. Its price per
   supporter is the smallest amount p such that every supporter pays p, or all they have left if
   that is less, and the payments add up to the cost.
3. Buy the project with the lowest price per unit of utility and charge its supporters; repeat
   until no project can be bought. With ``utility="approval"`` (the default) every supported
   project is worth 1 to its supporters, so the lowest price per supporter wins; with
   ``utility="cost"`` a project is worth its cost, so the lowest price per pound wins.
4. Equal prices (within one part in 10^9, as the money is worked in floating point) are taken
   in lot order; every such tie is recorded.

Completion ("add1, then greedy", the standard one): MES usually leaves money unspent, so the
count is repeated with each voter's share raised by one (budget / voters + 1, + 2, ...) while
the outcome still fits the real budget, stopping at the first outcome that leaves no room for
any other supported project or just before the first that would overspend; what is then left
is filled greedily by votes (``budget.fill_greedily``). Raising stops after 1,000 rises, which
only a project whose few supporters could never afford it would need; the result says how many
rises were made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from polls.domain.counting.budget import BudgetBallots, GreedyStep, fill_greedily
from polls.domain.counting.ties import Lot, Tie

CLOSE = 1e-9  # prices this close (relatively) are equal: floating point cannot tell them apart
MAX_RISES = 1000
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
class EqualSharesResult:
    method: str
    utility: str  # "approval" or "cost"
    completion: str  # "add1, then greedy" or "none"
    budget: int
    ballots: int
    votes: dict[int, int]
    share: float  # each voter's share in the run whose outcome was kept
    rises: int  # times the share was raised by one
    purchases: tuple[Purchase, ...]  # bought by equal shares, in order
    completed: tuple[GreedyStep, ...]  # the greedy completion
    funded: tuple[int, ...]  # equal shares first, then completion
    spent: int
    ties: tuple[Tie, ...]
    lot: Lot


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
        self.worth = {p: 1.0 if utility == "approval" else float(ballots.costs[p]) for p in ballots.projects}
        self.candidates = [p for p in ballots.projects if self.backing[p] > 0]

    def run(self, share: float, lot: Lot, rise: int) -> tuple[list[Purchase], list[Tie]]:
        costs = self.ballots.costs
        money: Money = np.full(len(self.weight), share, dtype=np.float64)
        free = [p for p in self.candidates if costs[p] == 0]  # nothing to pay: bought at once
        bought = [Purchase(p, 0, 0.0, self.backing[p], 0) for p in free]
        ties: list[Tie] = []
        # prices only rise as money is spent, so the last price seen is a floor for the next
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
            chosen = lot.winner(best_at)
            if len(best_at) > 1:
                ties.append(Tie(rise, "lowest price", tuple(sorted(best_at, key=lot.place)), "lot", chosen))
            group = self.supporters[chosen]
            money[group] -= np.minimum(money[group], found[chosen].price)
            bought.append(found[chosen])
            del floor[chosen]
        return bought, ties

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


def equal_shares(
    ballots: BudgetBallots, *, utility: str = "approval", complete: bool = True, lot: Lot | None = None
) -> EqualSharesResult:
    if utility not in ("approval", "cost"):
        raise ValueError("utility is 'approval' or 'cost'")
    lot = lot or ballots.lot()
    voters = _Voters(ballots, utility)
    costs, budget = ballots.costs, ballots.budget
    share = budget / ballots.voters if ballots.voters else 0.0
    bought, ties = voters.run(share, lot, 0)
    rises = 0
    while complete and rises < MAX_RISES and not _leaves_no_room(voters, bought):
        more, more_ties = voters.run(budget / ballots.voters + rises + 1, lot, rises + 1)
        if sum(costs[p.project] for p in more) > budget:
            break
        rises += 1
        bought, ties = more, more_ties
    if rises:
        share = budget / ballots.voters + rises
    by_shares = tuple(p.project for p in bought)
    spent = sum(costs[p] for p in by_shares)
    completed: tuple[GreedyStep, ...] = ()
    if complete:
        completed, greedy_ties = fill_greedily(ballots, by_shares, budget - spent, lot, stage=-1)
        ties += list(greedy_ties)
    funded = by_shares + tuple(s.project for s in completed if s.funded)
    return EqualSharesResult(
        method="equal_shares",
        utility=utility,
        completion="add1, then greedy" if complete else "none",
        budget=budget,
        ballots=ballots.voters,
        votes=ballots.votes(),
        share=share,
        rises=rises,
        purchases=tuple(bought),
        completed=completed,
        funded=funded,
        spent=sum(costs[p] for p in funded),
        ties=tuple(ties),
        lot=lot,
    )


def _leaves_no_room(voters: _Voters, bought: list[Purchase]) -> bool:
    costs, budget = voters.ballots.costs, voters.ballots.budget
    taken = {p.project for p in bought}
    left = budget - sum(costs[p] for p in taken)
    return all(costs[p] > left for p in voters.candidates if p not in taken)
