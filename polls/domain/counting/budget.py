"""Budget questions: costed projects, a total budget, and ballots each supporting some projects.

Greedy allocation, the rule most participatory budgets use: projects in order of votes, most
first, each funded if it still fits in what is left of the budget and skipped if not (a cheaper
project further down can still be funded). Equal votes are taken in lot order. A project nobody
voted for is never funded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from polls.domain.counting.ties import Lot, Tie, seed_of


@dataclass(frozen=True)
class BudgetBallots:
    projects: tuple[int, ...]  # as listed
    costs: dict[int, int]
    budget: int
    approvals: tuple[tuple[tuple[int, ...], int], ...]  # distinct sets of projects supported, counts

    @classmethod
    def weighted(
        cls, projects: Iterable[tuple[int, int]], budget: int, ballots: Iterable[tuple[Sequence[int], int]]
    ) -> BudgetBallots:
        """From (project, cost) pairs, the total budget and (projects supported, ballots) pairs. A ballot
        supporting nothing still counts as a voter (it has a share of the budget under equal shares)."""
        costs = dict(projects)
        listed = tuple(costs)
        counts: dict[tuple[int, ...], int] = {}
        for chosen, n in ballots:
            key = tuple(sorted(chosen))
            if len(set(key)) != len(key):
                raise ValueError(f"ballot {list(key)} supports a project twice")
            if not set(key) <= set(listed):
                raise ValueError(f"ballot {list(key)} names a project that is not listed")
            if n:
                counts[key] = counts.get(key, 0) + n
        if budget < 0 or any(c < 0 for c in costs.values()):
            raise ValueError("costs and the budget cannot be negative")
        return cls(listed, costs, budget, tuple(sorted(counts.items())))

    @property
    def voters(self) -> int:
        return sum(n for _, n in self.approvals)

    def votes(self) -> dict[int, int]:
        votes = dict.fromkeys(self.projects, 0)
        for chosen, n in self.approvals:
            for project in chosen:
                votes[project] += n
        return votes

    def lot(self) -> Lot:
        extra = {"budget": self.budget, "costs": sorted(self.costs.items())}
        return Lot.draw(self.projects, seed_of("budget", self.projects, dict(self.approvals), extra))


@dataclass(frozen=True)
class GreedyStep:
    project: int
    votes: int
    cost: int
    funded: bool
    left: int  # budget left after this step


@dataclass(frozen=True)
class GreedyResult:
    method: str
    budget: int
    ballots: int
    votes: dict[int, int]
    funded: tuple[int, ...]  # in the order funded
    spent: int
    steps: tuple[GreedyStep, ...]
    ties: tuple[Tie, ...]  # groups of equal votes, taken in lot order
    lot: Lot


def greedy(ballots: BudgetBallots, lot: Lot | None = None) -> GreedyResult:
    lot = lot or ballots.lot()
    steps, ties = fill_greedily(ballots, (), ballots.budget, lot)
    funded = tuple(s.project for s in steps if s.funded)
    return GreedyResult(
        method="greedy",
        budget=ballots.budget,
        ballots=ballots.voters,
        votes=ballots.votes(),
        funded=funded,
        spent=sum(ballots.costs[p] for p in funded),
        steps=steps,
        ties=ties,
        lot=lot,
    )


def fill_greedily(
    ballots: BudgetBallots, already: Sequence[int], left: int, lot: Lot, stage: int = 0
) -> tuple[tuple[GreedyStep, ...], tuple[Tie, ...]]:
    """Greedy allocation of what is ``left`` among projects not ``already`` funded; also used to
    complete equal shares."""
    votes = ballots.votes()
    waiting = [p for p in ballots.projects if p not in already and votes[p] > 0]
    order = sorted(waiting, key=lambda p: (-votes[p], lot.place(p)))
    steps = []
    for project in order:
        cost = ballots.costs[project]
        fits = cost <= left
        left -= cost if fits else 0
        steps.append(GreedyStep(project, votes[project], cost, fits, left))
    ties = []
    for level in sorted({votes[p] for p in order}, reverse=True):
        group = tuple(p for p in order if votes[p] == level)
        if len(group) > 1:
            ties.append(Tie(stage, "order of equal votes", group, "lot", group[0]))
    return tuple(steps), tuple(ties)
