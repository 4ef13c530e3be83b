"""The panels for a point of expected counts: a walk after Carathéodory's theorem.

Take a real panel v on the smallest face of Q holding the remainder r (a panel sitting exactly on
every bound and quota that r sits on), give v the largest chance b for which r - b*v is still in
the polytope scaled by the chance left, subtract, repeat. Each step puts r on one more bound or
quota for good, so the walk ends within a step per group and quota, with a panel per step. The
remainder is kept unscaled so that rounding errors add up rather than multiply. When a face holds
no real panel the walk stops short; the final lottery LP then shows the shortfall, and the caller
falls back to column generation.
"""

from __future__ import annotations

from collections.abc import Callable

import highspy
import numpy as np
import numpy.typing as npt

from polls.domain.sortition import solver
from polls.domain.sortition.groups import Groups
from polls.domain.sortition.panels import Panel, panel_rows

# Remainders this close to a bound count as on it (in people; the counts are at most a few hundred).
TIGHT = 1e-9
ROW_TIGHT = 1e-8
# Stop when this little chance is left to give: spreading it over the panels found is harmless.
DONE = 1e-7


def decompose(
    groups: Groups,
    size: int,
    counts: npt.NDArray[np.float64],
    step_done: Callable[[float, int], None] | None = None,
) -> list[Panel]:
    """The walk's panels; ``step_done(chance left, panels so far)`` after each step."""
    n = len(groups)
    sizes = np.asarray(groups.sizes, dtype=np.float64)
    rows = panel_rows(groups, size)
    matrix = np.zeros((len(rows), n))
    for i, row in enumerate(rows):
        matrix[i, list(row.columns)] = row.values
    lower = np.asarray([r.lower for r in rows], dtype=np.float64)
    upper = np.asarray([r.upper for r in rows], dtype=np.float64)
    model = solver.new_model([0.0] * n, [0.0] * n, sizes, rows, maximise=True, integer=True)
    # Any panel on the face will do. One that seats the groups with most chance left makes long
    # steps (the walk is over sooner), but proving it the very best is not worth the time.
    model.setOptionValue("mip_rel_gap", 1e-2)
    columns = np.arange(n, dtype=np.int32)

    remainder, left = np.asarray(counts, dtype=np.float64).copy(), 1.0
    found: list[Panel] = []
    # Each step makes a bound or quota tight for good; the cap only guards against floating point.
    for _ in range(4 * (n + len(rows))):
        if left <= DONE:
            break
        at_zero = remainder <= TIGHT
        at_full = remainder >= left * sizes - TIGHT
        reached = matrix @ remainder
        at_min = reached - left * lower <= ROW_TIGHT
        at_max = left * upper - reached <= ROW_TIGHT
        model.changeColsBounds(n, columns, np.where(at_full, sizes, 0.0), np.where(at_zero, 0.0, sizes))
        for i in range(len(rows)):
            model.changeRowBounds(i, upper[i] if at_max[i] else lower[i], lower[i] if at_min[i] else upper[i])
        model.changeColsCost(n, columns, remainder / (left * sizes))
        model.run()
        if model.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        panel = np.rint(solver.values(model))
        # The largest chance b with remainder - b*panel inside left-b times Q: a ratio test per bound.
        image = matrix @ panel
        limits = [np.array([left])]
        limits.append(_ratios(remainder, panel, ~at_zero))
        limits.append(_ratios(left * sizes - remainder, sizes - panel, ~at_full))
        limits.append(_ratios(reached - left * lower, image - lower, ~at_min & np.isfinite(lower)))
        limits.append(_ratios(left * upper - reached, upper - image, ~at_max & np.isfinite(upper)))
        chance = float(min(x.min() for x in limits if x.size))
        key = tuple(int(x) for x in panel)
        if key not in found:
            found.append(key)
        remainder -= chance * panel
        left -= chance
        if step_done is not None:
            step_done(left, len(found))
    return found


def _ratios(
    slack: npt.NDArray[np.float64], use: npt.NDArray[np.float64], where: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """slack / use wherever the step uses up the slack (use > 0)."""
    keep = where & (use > 0.5)  # integer data: use is 0 or at least 1
    return np.asarray(slack[keep] / use[keep], dtype=np.float64)
