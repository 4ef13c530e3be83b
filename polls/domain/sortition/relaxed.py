"""Leximin probabilities as if panels could seat fractions of people: fast, and usually the answer.

Panels are integer points of a polytope Q (a count per group, the panel size, the quotas, one per
household). Lotteries over panels reach exactly the points of H, the convex hull of those integer
points, and H lies inside Q; so the leximin probabilities over Q are at least as good as any
lottery's. They are computed here with one small LP per stage (a variable per group, no panels).
When the point found is also in H, which the decomposition into panels checks, it is the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from polls.domain.sortition import solver
from polls.domain.sortition.groups import Groups
from polls.domain.sortition.panels import panel_rows
from polls.domain.sortition.solver import INFINITY, Row

# A group's dual weight above this (per person) means it cannot go higher at this stage.
WEIGHT = 1e-9
# Settled levels are held this much lower, so later stages stay feasible in floating point.
SLACK = 1e-8


@dataclass(frozen=True)
class Levels:
    """Each group's leximin probability over Q, and a point of Q (expected counts) that reaches them."""

    probabilities: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]


def relaxed_leximin(groups: Groups, size: int, stage_done: Callable[[int], None] | None = None) -> Levels:
    """Stage by stage: raise the lowest unsettled probability, settle the groups the dual shows stuck.

    Variables: the expected count of each group, then the level z. Besides the panel rules, a row per
    group says count >= size * z while unsettled; once settled, its count's lower bound holds it.
    z is kept within -1 and 2: bounds it never reaches (a probability is 0 to 1), so that the rows
    and not a bound on z carry the dual weights, even at levels 0 and 1, and the last solve, with
    every group settled, stays bounded.
    """
    n = len(groups)
    sizes = np.asarray(groups.sizes, dtype=np.float64)
    rules = panel_rows(groups, size)
    first = len(rules)
    rows = rules + [Row(0.0, INFINITY, [g, n], [1.0, -sizes[g]]) for g in range(n)]
    model = solver.new_model(
        [0.0] * n + [1.0], [0.0] * n + [-1.0], [*sizes, 2.0], rows, maximise=True, integer=False
    )
    # The point found is decomposed into panels next: the tighter it keeps to Q, the better.
    model.setOptionValue("primal_feasibility_tolerance", 1e-9)
    model.setOptionValue("dual_feasibility_tolerance", 1e-9)
    settled = np.full(n, np.nan)
    while np.isnan(settled).any():
        if not solver.solve(model):
            raise solver.SolverFailed("the fractional leximin LP has no solution")
        level = model.getInfo().objective_function_value
        weights = np.abs(solver.row_duals(model)[first:])
        open_ = np.isnan(settled)
        newly = np.flatnonzero(open_ & (weights * sizes > WEIGHT))
        if newly.size == 0:  # the weights add up to 1 over the open groups: only a broken solve gets here
            raise solver.SolverFailed("the fractional leximin LP settled nobody")
        for g in newly:
            settled[g] = max(0.0, level)
            model.changeCoeff(first + int(g), n, 0.0)
            model.changeColBounds(int(g), min(sizes[g], sizes[g] * max(0.0, level - SLACK)), sizes[g])
        if stage_done is not None:
            stage_done(int((~np.isnan(settled)).sum()))
    solver.solve(model)
    return Levels(settled, solver.values(model)[:n])
