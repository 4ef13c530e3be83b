"""The fairest panel lottery: meets every quota, and maximises the lowest selection probability, then
the next lowest, and so on (leximin).

Two routes to the same answer. The fast one computes the leximin probabilities as if panels could
seat fractions of people (``relaxed``), then writes that point as a lottery over real panels
(``decompose``); if that succeeds the probabilities cannot be beaten, since no lottery does better
than the fractional optimum. It falls short when real panels cannot reach the fractional optimum
(rare on large pools, where a panel has many seats) or when the walk takes a turn that leads
nowhere; then column generation over panels (``column_generation``), slower but exact in every
case, finds the true leximin, starting from the panels already found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from polls.domain.sortition import solver
from polls.domain.sortition.column_generation import settle_by_columns
from polls.domain.sortition.decompose import decompose
from polls.domain.sortition.groups import Groups
from polls.domain.sortition.panels import Panel, PanelFinder
from polls.domain.sortition.relaxation import explain_infeasible
from polls.domain.sortition.relaxed import relaxed_leximin
from polls.domain.sortition.solver import INFINITY, Row
from polls.errors import QuotasInfeasible

# A lottery whose probabilities fall short of the fractional optimum by at most this is optimal.
ACCEPT = 1e-6


@dataclass(frozen=True)
class SolveProgress:
    """Where a long solve is, for a progress bar."""

    step: str  # what the solver is doing, in words
    fraction: float  # how far through that step, 0 to 1
    panels: int  # panels found so far
    lowest: float | None = None  # the lowest selection probability, once known


Progress = Callable[[SolveProgress], None]


@dataclass(frozen=True)
class Distribution:
    """A lottery over panels: ``chances[i]`` is the probability of drawing ``panels[i]``."""

    groups: Groups
    size: int
    panels: tuple[Panel, ...]
    chances: tuple[float, ...]

    def probabilities(self) -> tuple[float, ...]:
        """The selection probability of each person in each group."""
        counts = np.asarray(self.panels, dtype=np.float64).reshape(len(self.panels), len(self.groups))
        chosen = np.asarray(self.chances, dtype=np.float64) @ counts
        return tuple(float(p) for p in chosen / np.asarray(self.groups.sizes, dtype=np.float64))


def fairest_lottery(
    groups: Groups, size: int, progress: Progress | None = None, *, shortcut: bool = True
) -> Distribution:
    """The leximin lottery over panels of ``size``; QuotasInfeasible when no panel meets the quotas.

    ``shortcut=False`` skips the fractional route (for tests of the column generation).
    """
    report = progress or (lambda _: None)
    n = len(groups)
    finder = PanelFinder(groups, size)
    if finder.best([0.0] * n) is None:
        raise QuotasInfeasible(explain_infeasible(groups, size))
    panels: list[Panel] = []
    if shortcut:
        levels = relaxed_leximin(
            groups, size, lambda settled: report(SolveProgress("fairest probabilities", settled / n, 0))
        )
        lowest = float(levels.probabilities.min())
        found = decompose(
            groups,
            size,
            levels.counts,
            lambda left, count: report(SolveProgress("panels for them", 1 - left, count, lowest)),
        )
        if found:
            report(SolveProgress("final lottery", 0.0, len(found), lowest))
            distribution, shortfall = _final_lottery(groups, size, found, levels.probabilities)
            if shortfall <= ACCEPT:
                report(SolveProgress("final lottery", 1.0, len(distribution.panels), lowest))
                return distribution
        panels = found

    def columns(step: str, settled: int, found: int, lowest: float | None) -> None:
        report(SolveProgress(step, settled / n, found, lowest))

    settled = settle_by_columns(groups, finder, panels, columns)
    levels_found = [settled[g] for g in range(n)]
    report(SolveProgress("final lottery", 0.0, len(panels), min(levels_found)))
    distribution, _ = _final_lottery(groups, size, panels, levels_found)
    report(SolveProgress("final lottery", 1.0, len(distribution.panels), min(levels_found)))
    return distribution


def _final_lottery(
    groups: Groups, size: int, panels: list[Panel], targets: solver.Numbers
) -> tuple[Distribution, float]:
    """Chances for ``panels`` giving every group its target probability less the smallest shortfall."""
    sizes = np.asarray(groups.sizes, dtype=np.float64)
    m = len(panels)
    counts = np.asarray(panels, dtype=np.float64).reshape(m, len(groups))
    rows = [Row(1.0, 1.0, range(m), [1.0] * m)]
    for g in range(len(groups)):
        users = np.flatnonzero(counts[:, g])
        rows.append(
            Row(
                float(targets[g]),
                INFINITY,
                [*users.tolist(), m],
                [*(counts[users, g] / sizes[g]).tolist(), 1.0],
            )
        )
    model = solver.new_model(
        [0.0] * m + [1.0], [0.0] * (m + 1), [INFINITY] * (m + 1), rows, maximise=False, integer=False
    )
    if not solver.solve(model):
        raise solver.SolverFailed("the final lottery LP has no solution")
    solution = solver.values(model)
    chances = np.clip(solution[:m], 0.0, None)
    used = np.flatnonzero(chances > 1e-12)
    kept = chances[used] / chances[used].sum()
    distribution = Distribution(groups, size, tuple(panels[i] for i in used), tuple(float(c) for c in kept))
    shortfall = float(np.max(np.asarray(targets) - np.asarray(distribution.probabilities()), initial=0.0))
    return distribution, shortfall
