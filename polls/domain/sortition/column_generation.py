"""The leximin lottery by column generation over panels: exact in every case, slow on large pools.

After Flanigan, Gölz, Gupta, Hennig and Procaccia, "Fair algorithms for selecting citizens'
assemblies" (Nature, 2021), on groups of interchangeable people instead of individuals. Stage by
stage, the lowest selection probability among groups not yet settled is raised as far as any
lottery over panels allows; the groups that cannot go higher are settled at that level. Each stage
solves the LP dual of "maximise the minimum" over the panels found so far; pricing then looks for
a panel the dual undervalues. If one exists it joins the LP; if none does, the LP's optimum is the
true one and the groups the dual puts weight on are settled at it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from polls.domain.sortition import solver
from polls.domain.sortition.groups import Groups
from polls.domain.sortition.panels import Panel, PanelFinder
from polls.domain.sortition.solver import INFINITY, Row

# A new panel must beat the LP's best by this much to count: smaller differences are solver noise,
# and taking them for progress makes the loop add the same panels again and again. It bounds how
# far below the true optimum each level may be settled.
IMPROVEMENT = 1e-8
# A group is settled when the dual puts at least this weight on it.
WEIGHT = 1e-9
# Settled probabilities are held this much below the level found, so the later stages stay feasible
# in floating point; the final LP then gives every group its level or better.
SLACK = 1e-9
# Rounds of multiplicative weights for a varied first set of panels, at most.
STARTING_ROUNDS = 40

Report = Callable[[str, int, int, float | None], None]  # step, groups settled, panels known, lowest settled


def settle_by_columns(
    groups: Groups, finder: PanelFinder, panels: list[Panel], report: Report
) -> dict[int, float]:
    """Every group's leximin probability; ``panels`` (a start) gains the panels needed to reach them."""
    never = _add_starting_panels(groups, finder, panels)
    report("starting panels", 0, len(panels), None)
    settled = {g: 0.0 for g in never}
    _settle_in_stages(groups, finder, panels, settled, report)
    return settled


def _add_starting_panels(groups: Groups, finder: PanelFinder, panels: list[Panel]) -> set[int]:
    """Add varied panels; return the groups no panel can include (their probability is 0)."""
    sizes = np.asarray(groups.sizes, dtype=np.float64)
    seen = set(panels)

    def keep(panel: Panel) -> None:
        if panel not in seen:
            seen.add(panel)
            panels.append(panel)

    # Multiplicative weights: people on many panels so far are worth less to the next one.
    finder.rough()
    weights = np.ones(len(groups))
    for _ in range(min(STARTING_ROUNDS, 2 * len(groups)) if not panels else 0):
        found = finder.best(weights)
        assert found is not None  # feasibility was checked
        keep(found[0])
        weights *= 0.8 ** (np.asarray(found[0]) / sizes)
        weights *= len(groups) / weights.sum()
    finder.precise()
    # Everyone who can sit on some panel should sit on one here, or the first LP is blind to them.
    covered = np.zeros(len(groups), dtype=bool)
    for panel in panels:
        covered |= np.asarray(panel) > 0
    while not covered.all():
        found = finder.best(np.where(covered, 0.0, 1.0 / sizes))
        assert found is not None
        if found[1] <= 0.5 / sizes.max():
            break  # no panel includes anyone still uncovered
        keep(found[0])
        covered |= np.asarray(found[0]) > 0
    return {g for g in range(len(groups)) if not covered[g]}


def _settle_in_stages(
    groups: Groups, finder: PanelFinder, panels: list[Panel], settled: dict[int, float], report: Report
) -> None:
    n = len(groups)
    sizes = np.asarray(groups.sizes, dtype=np.float64)
    columns = list(range(n))
    # Variables: a weight per group, then the worth of the best panel. Row 0: the weights of the
    # unsettled groups sum to 1. One row per panel: its worth is at most the best panel's.
    open_ = [g for g in columns if g not in settled]
    rows = [Row(1.0, 1.0, open_, [1.0] * len(open_))] + [_panel_row(p, sizes) for p in panels]
    dual = solver.new_model(
        [0.0] * n + [1.0], [0.0] * n + [-INFINITY], [INFINITY] * (n + 1), rows, maximise=False, integer=False
    )
    known = set(panels)
    while len(settled) < n:
        if not solver.solve(dual):
            raise solver.SolverFailed("the leximin LP has no solution")
        solution = solver.values(dual)
        weights, best_worth = solution[:n], solution[n]
        found = finder.better_than(weights / sizes, best_worth, IMPROVEMENT)
        if found is not None and found[0] not in known:
            known.add(found[0])
            panels.append(found[0])
            solver.add_row(dual, _panel_row(found[0], sizes))
            if len(panels) % 50 == 0:
                report("fairest lottery", len(settled), len(panels), _lowest(settled))
            continue
        level = max(0.0, dual.getInfo().objective_function_value)
        newly = [g for g in columns if g not in settled and weights[g] > WEIGHT]
        if not newly:  # the weights add up to 1 over the open groups: only a broken solve gets here
            raise solver.SolverFailed("the leximin LP settled nobody")
        for g in newly:
            settled[g] = level
            dual.changeCoeff(0, g, 0.0)
            dual.changeColCost(g, -max(0.0, level - SLACK))
        report("fairest lottery", len(settled), len(panels), _lowest(settled))


def _lowest(settled: dict[int, float]) -> float | None:
    return min(settled.values()) if settled else None


def _panel_row(panel: Panel, sizes: npt.NDArray[np.float64]) -> Row:
    """A panel's worth (the weight of the people it seats) is at most the best panel's worth."""
    members = [g for g, count in enumerate(panel) if count]
    return Row(-INFINITY, 0.0, [*members, len(panel)], [*(panel[g] / sizes[g] for g in members), -1.0])
