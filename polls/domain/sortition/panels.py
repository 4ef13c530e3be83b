"""Finding one panel: a MIP over how many people to take from each group.

The MIP's LP relaxation is nearly tight on real pools (a panel has many seats and few quotas), so
pricing tries the relaxation first: when even it cannot beat a value, no panel can, and when it
can, rounding its few fractional counts (a tiny MIP) usually gives a panel that does. The full MIP
runs only when both fall short.
"""

from __future__ import annotations

from collections.abc import Sequence

import highspy
import numpy as np
import numpy.typing as npt

from polls.domain.sortition import solver
from polls.domain.sortition.groups import Groups
from polls.domain.sortition.solver import Row

Panel = tuple[int, ...]  # how many people from each group, in ``Groups.groups`` order
Values = Sequence[float] | npt.NDArray[np.float64]


def panel_rows(groups: Groups, size: int) -> list[Row]:
    """Every rule a panel obeys: its size, each quota, one person per household kept apart."""
    rows = [Row(size, size, range(len(groups)), [1.0] * len(groups))]
    for quota, having in zip(groups.quotas.quotas, groups.having, strict=True):
        rows.append(Row(quota.min, quota.max, having, [1.0] * len(having)))
    rows += [Row(0, 1, household, [1.0] * len(household)) for household in groups.households]
    return rows


class PanelFinder:
    """Panels worth the most for a value per person in each group; the models are built once."""

    def __init__(self, groups: Groups, size: int) -> None:
        n = len(groups)
        self.groups, self.n = groups, n
        self.upper = np.asarray(groups.sizes, dtype=np.float64)
        rows = panel_rows(groups, size)
        self.exact = solver.new_model([0.0] * n, [0.0] * n, self.upper, rows, maximise=True, integer=True)
        self.relaxed = solver.new_model([0.0] * n, [0.0] * n, self.upper, rows, maximise=True, integer=False)
        self.columns = np.arange(n, dtype=np.int32)
        self.precise()

    def precise(self) -> None:
        # The gap is how much less than the best a panel may be worth; it must stay well below the
        # tolerance at which the leximin loop tells "a better panel exists" from "none does".
        self.exact.setOptionValue("mip_rel_gap", 1e-7)
        self.exact.setOptionValue("mip_abs_gap", 1e-9)

    def rough(self) -> None:
        """Good panels rather than the best: for the varied first panels, where the best is not needed."""
        self.exact.setOptionValue("mip_rel_gap", 1e-3)

    def best(self, values: Values) -> tuple[Panel, float] | None:
        """The best panel and its worth, or None when no panel meets the quotas."""
        costs = np.asarray(values, dtype=np.float64)
        self.exact.changeColsCost(self.n, self.columns, costs)
        if not solver.solve(self.exact):
            return None
        return self._read(self.exact, costs)

    def better_than(self, values: Values, worth: float, margin: float) -> tuple[Panel, float] | None:
        """A panel worth more than ``worth + margin``, or None when none is (within the MIP's gap)."""
        costs = np.asarray(values, dtype=np.float64)
        self.relaxed.changeColsCost(self.n, self.columns, costs)
        solver.solve(self.relaxed)
        if self.relaxed.getInfo().objective_function_value <= worth + margin:
            return None
        rounded = self._round(costs, solver.values(self.relaxed))
        if rounded is not None and rounded[1] > worth + margin:
            return rounded
        found = self.best(costs)
        assert found is not None  # the relaxation had a solution, and so has the MIP: feasibility was checked
        return found if found[1] > worth + margin else None

    def _round(
        self, costs: npt.NDArray[np.float64], relaxed: npt.NDArray[np.float64]
    ) -> tuple[Panel, float] | None:
        """The best panel whose counts are the relaxation's, rounded down or up."""
        low = np.clip(np.floor(relaxed + 1e-6), 0, self.upper)
        high = np.clip(np.ceil(relaxed - 1e-6), 0, self.upper)
        self.exact.changeColsCost(self.n, self.columns, costs)
        self.exact.changeColsBounds(self.n, self.columns, low, high)
        try:
            self.exact.run()
            if self.exact.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            return self._read(self.exact, costs)
        finally:
            self.exact.changeColsBounds(self.n, self.columns, np.zeros(self.n), self.upper)

    @staticmethod
    def _read(model: highspy.Highs, costs: npt.NDArray[np.float64]) -> tuple[Panel, float]:
        panel = tuple(int(x) for x in np.rint(solver.values(model)))
        return panel, float(np.dot(costs, panel))
