"""When no panel meets every quota: which quotas conflict, and the smallest change that fixes it.

The smallest change is a MIP: choose a panel and, for each quota, how far to lower its minimum or
raise its maximum, minimising the total change. Plain checks (a category's minimums adding up to
more than the panel, a minimum above the people the pool has) come first, because they say why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polls.domain.sortition import solver
from polls.domain.sortition.groups import Groups
from polls.domain.sortition.pool import Quota
from polls.domain.sortition.solver import INFINITY, Row


@dataclass(frozen=True)
class Relaxation:
    """One quota and the bounds it needs for a panel to exist."""

    quota: Quota
    min: int
    max: int

    def describe(self) -> str:
        q = self.quota
        if self.min < q.min:
            return f"{q.category} '{q.feature}': lower the minimum from {q.min} to {self.min}"
        return f"{q.category} '{q.feature}': raise the maximum from {q.max} to {self.max}"


@dataclass(frozen=True)
class InfeasibilityReport:
    size: int
    conflicts: tuple[str, ...]  # reasons in plain words, where a simple check finds one
    relaxations: tuple[Relaxation, ...]  # empty when no change to the quotas would do (pool too small)

    def describe(self) -> str:
        lines = [f"No panel of {self.size} meets every quota."]
        lines += [f"  - {c}" for c in self.conflicts]
        if self.relaxations:
            total = sum(r.quota.min - r.min + r.max - r.quota.max for r in self.relaxations)
            lines.append(f"The smallest change to the quotas that makes a panel possible ({total} in total):")
            lines += [f"  - {r.describe()}" for r in self.relaxations]
        else:
            lines.append("No change to the quotas alone makes a panel possible: the pool is too small.")
        return "\n".join(lines)


def explain_infeasible(groups: Groups, size: int) -> InfeasibilityReport:
    return InfeasibilityReport(
        size, tuple(_plain_conflicts(groups, size)), tuple(_smallest_relaxation(groups, size))
    )


def _plain_conflicts(groups: Groups, size: int) -> list[str]:
    found = []
    quotas = groups.quotas
    if groups.people < size:
        found.append(f"the pool has {groups.people} people, fewer than the panel's {size}")
    seats = groups.people - sum(len(h) - 1 for h in groups.households)
    if groups.people >= size > seats:
        found.append(f"the pool has people from {seats} households, fewer than the panel's {size}")
    for category in quotas.categories:
        mins = sum(quotas.quota(category, f).min for f in quotas.features(category))
        maxes = sum(quotas.quota(category, f).max for f in quotas.features(category))
        if mins > size:
            found.append(f"the minimums for {category} add up to {mins}, more than the panel's {size}")
        if maxes < size:
            found.append(f"the maximums for {category} add up to {maxes}, fewer than the panel's {size}")
    for quota, having in zip(quotas.quotas, groups.having, strict=True):
        available = sum(groups.sizes[g] for g in having)
        if available < quota.min:
            found.append(
                f"the pool has {available} people with {quota.category} '{quota.feature}', "
                f"fewer than the minimum of {quota.min}"
            )
    return found


def _smallest_relaxation(groups: Groups, size: int) -> list[Relaxation]:
    n, quotas = len(groups), groups.quotas.quotas
    q = len(quotas)
    # Columns: a count per group, then per quota how far its minimum drops, how far its maximum
    # rises, and whether it changes at all. Changing a quota costs a fraction too small to trade
    # against one person of change: of the smallest changes, the one touching fewest quotas wins,
    # rather than whichever the solver happens to find first.
    touch = 1.0 / (q + 1)
    lower = [0.0] * (n + 3 * q)
    upper = [float(s) for s in groups.sizes] + [float(x.min) for x in quotas] + [INFINITY] * q + [1.0] * q
    costs = [0.0] * n + [1.0] * (2 * q) + [touch] * q
    rows = [Row(size, size, range(n), [1.0] * n)]
    for i, (quota, having) in enumerate(zip(quotas, groups.having, strict=True)):
        rows.append(Row(quota.min, INFINITY, [*having, n + i], [1.0] * (len(having) + 1)))
        rows.append(Row(-INFINITY, quota.max, [*having, n + q + i], [1.0] * len(having) + [-1.0]))
        # Either change only with the quota marked as changed: a minimum drops by at most itself,
        # a maximum never needs to rise by more than the panel.
        bound = float(quota.min + size)
        rows.append(Row(-INFINITY, 0, [n + i, n + q + i, n + 2 * q + i], [1.0, 1.0, -bound]))
    rows += [Row(0, 1, h, [1.0] * len(h)) for h in groups.households]
    model = solver.new_model(costs, lower, upper, rows, maximise=False, integer=True)
    if not solver.solve(model):
        return []
    x = np.rint(solver.values(model)).astype(int)
    return [
        Relaxation(quota, quota.min - int(x[n + i]), quota.max + int(x[n + q + i]))
        for i, quota in enumerate(quotas)
        if x[n + i] or x[n + q + i]
    ]
