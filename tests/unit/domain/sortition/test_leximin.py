"""The panel lottery: every panel meets the quotas, and the probabilities are leximin-optimal.

Optimality is checked against an independent brute force on tiny pools: every feasible panel of
individual people enumerated, and the leximin LP solved stage by stage with scipy's linprog, a
person being fixed only when an LP shows their probability cannot rise above the stage's level.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from polls.bench.sortition import realistic_pool, skewed_pool
from polls.domain.sortition import (
    Distribution,
    Person,
    Pool,
    Quota,
    Quotas,
    SolveProgress,
    fairest_lottery,
    group_pool,
)
from polls.domain.sortition.relaxed import relaxed_leximin


def feasible_panels(pool: Pool, size: int, households: bool) -> list[tuple[int, ...]]:
    people, categories = pool.people, pool.quotas.categories
    found = []
    for panel in itertools.combinations(range(len(people)), size):
        meets = all(
            q.min
            <= sum(people[i].features[categories.index(q.category)] == q.feature for i in panel)
            <= q.max
            for q in pool.quotas.quotas
        )
        homes = [people[i].household for i in panel if people[i].household is not None]
        if meets and (not households or len(homes) == len(set(homes))):
            found.append(panel)
    return found


def brute_force_leximin(pool: Pool, size: int, households: bool = False) -> dict[str, float] | None:
    panels = feasible_panels(pool, size, households)
    if not panels:
        return None
    n, m = len(pool.people), len(panels)
    seated = np.zeros((n, m))
    for j, panel in enumerate(panels):
        seated[list(panel), j] = 1
    fixed: dict[int, float] = {}
    one = np.concatenate([np.ones(m), [0.0]])[None, :]
    while len(fixed) < n:
        # Variables: a chance per panel, then the level z.
        def rows(level: float | None) -> tuple[np.ndarray, np.ndarray]:
            lhs, rhs = [], []
            for i in range(n):
                floor = fixed.get(i, level)
                lhs.append(np.concatenate([-seated[i], [0.0 if floor is not None else 1.0]]))
                rhs.append(-(floor - 1e-9) if floor is not None else 0.0)
            return np.array(lhs), np.array(rhs)

        lhs, rhs = rows(None)
        best = linprog(
            np.concatenate([np.zeros(m), [-1.0]]), lhs, rhs, one, [1.0], [(0, None)] * m + [(None, None)]
        )
        level = -best.fun
        lhs, rhs = rows(level)
        for i in [i for i in range(n) if i not in fixed]:
            highest = linprog(
                np.concatenate([-seated[i], [0.0]]), lhs, rhs, one, [1.0], [(0, None)] * m + [(0, 0)]
            )
            if -highest.fun <= level + 1e-7:
                fixed[i] = level
    return {pool.people[i].id: fixed[i] for i in range(n)}


def by_person(distribution: Distribution) -> dict[str, float]:
    chances = distribution.probabilities()
    return {person: chances[g] for g, group in enumerate(distribution.groups.groups) for person in group.ids}


def make_pool(
    features: list[tuple[str, ...]], quotas: list[tuple[str, str, int, int]], homes: str = ""
) -> Pool:
    people = tuple(
        Person(f"p{i}", f, household=(homes[i] if i < len(homes) and homes[i] != "." else None))
        for i, f in enumerate(features)
    )
    return Pool(people, Quotas(tuple(Quota(*q) for q in quotas)))


# Fractional panels could give everyone 2/3 here, real ones cannot: the answer needs the column generation.
OUT_OF_REACH = make_pool(
    [
        ("a", "x", "m"),
        ("a", "y", "n"),
        ("a", "y", "n"),
        ("b", "x", "n"),
        ("b", "x", "n"),
        ("b", "y", "m"),
        ("a", "x", "m"),
    ],
    [
        ("c0", "a", 2, 4),
        ("c0", "b", 1, 2),
        ("c1", "y", 2, 4),
        ("c1", "x", 3, 4),
        ("c2", "m", 2, 5),
        ("c2", "n", 0, 5),
    ],
)
SMALL_POOLS = {
    "two categories": (
        make_pool(
            [
                ("f", "old"),
                ("f", "young"),
                ("f", "young"),
                ("m", "old"),
                ("m", "old"),
                ("m", "young"),
                ("f", "old"),
            ],
            [("sex", "f", 1, 2), ("sex", "m", 1, 2), ("age", "old", 1, 3), ("age", "young", 1, 1)],
        ),
        3,
    ),
    "skewed": (
        make_pool(
            [("f", "con")] + [("f", "lib")] * 3 + [("m", "con")] * 4,
            [("sex", "f", 1, 3), ("sex", "m", 1, 3), ("view", "con", 1, 3), ("view", "lib", 1, 3)],
        ),
        4,
    ),
    "out of reach of fractions": (OUT_OF_REACH, 5),
}


@pytest.mark.parametrize("shortcut", [True, False], ids=["fractional route", "column generation"])
@pytest.mark.parametrize("name", list(SMALL_POOLS))
def test_probabilities_are_those_of_the_brute_force_leximin(name: str, shortcut: bool) -> None:
    pool, size = SMALL_POOLS[name]
    expected = brute_force_leximin(pool, size)
    assert expected is not None
    found = by_person(fairest_lottery(group_pool(pool, households=False), size, shortcut=shortcut))
    for person, probability in expected.items():
        assert found[person] == pytest.approx(probability, abs=1e-6), person


def test_when_fractions_could_do_better_the_lottery_is_still_the_best_real_panels_allow() -> None:
    groups = group_pool(OUT_OF_REACH, households=False)
    fractional = relaxed_leximin(groups, 5).probabilities
    found = fairest_lottery(groups, 5).probabilities()
    assert min(found) == pytest.approx(0.5, abs=1e-6)
    assert min(fractional) == pytest.approx(2 / 3, abs=1e-6)  # out of reach: the fallback had to run


def test_every_panel_in_the_lottery_meets_every_quota_and_chances_add_up() -> None:
    pool = realistic_pool(people=60, size=10, seed=3)
    groups = group_pool(pool, households=False)
    distribution = fairest_lottery(groups, 10)
    assert distribution.panels
    for panel in distribution.panels:
        assert groups.problems(panel, 10) == []
    assert sum(distribution.chances) == pytest.approx(1.0, abs=1e-9)
    assert min(distribution.chances) > 0
    assert sum(by_person(distribution).values()) == pytest.approx(10, abs=1e-6)


def test_both_routes_give_the_same_probabilities_on_a_realistic_pool() -> None:
    pool = realistic_pool(people=60, size=10, seed=3)
    groups = group_pool(pool, households=False)
    assert len(groups) > 40  # most people are unlike anyone else: a real test of both routes
    fast = fairest_lottery(groups, 10).probabilities()
    exact = fairest_lottery(groups, 10, shortcut=False).probabilities()
    assert fast == pytest.approx(exact, abs=1e-6)


def test_the_skewed_pool_of_200_gives_everyone_ten_percent() -> None:
    groups = group_pool(skewed_pool(1), households=False)
    assert groups.sizes == (1, 99, 100)  # identical people grouped: three groups, not 200 people
    assert fairest_lottery(groups, 20).probabilities() == pytest.approx((0.1, 0.1, 0.1), abs=1e-6)


def test_at_most_one_person_per_household_when_asked() -> None:
    # p0 and p1 share a home, as do p2 and p3; all four are women, and a panel of 3 needs 2 women.
    pool = make_pool(
        [("f",), ("f",), ("f",), ("f",), ("m",), ("m",)],
        [("sex", "f", 2, 2), ("sex", "m", 1, 1)],
        homes="AABB",
    )
    groups = group_pool(pool, households=True)
    assert groups.households == ((0, 1), (2, 3))
    distribution = fairest_lottery(groups, 3)
    for panel in distribution.panels:
        assert panel[0] + panel[1] <= 1 and panel[2] + panel[3] <= 1
    expected = brute_force_leximin(pool, 3, households=True)
    assert expected is not None
    found = by_person(distribution)
    assert all(found[p] == pytest.approx(expected[p], abs=1e-6) for p in expected)
    apart = by_person(fairest_lottery(group_pool(pool, households=False), 3))
    assert apart["p0"] == pytest.approx(0.5)  # the same probability either way here, reached differently


def test_a_household_limit_lowers_the_best_minimum_when_it_must() -> None:
    # Three women, two of them at one address; the panel needs two women.
    pool = make_pool([("f",), ("f",), ("f",), ("m",)], [("sex", "f", 2, 2), ("sex", "m", 0, 1)], homes="AA")
    together = by_person(fairest_lottery(group_pool(pool, households=True), 2))
    assert together["p2"] == pytest.approx(1.0)  # p2 must always sit: p0 and p1 cannot both
    assert together["p0"] == pytest.approx(0.5) and together["p1"] == pytest.approx(0.5)
    assert together["p3"] == pytest.approx(0.0)
    assert sum(together.values()) == pytest.approx(2)


def test_long_solves_report_progress() -> None:
    pool = realistic_pool(people=60, size=10, seed=3)
    seen: list[SolveProgress] = []
    fairest_lottery(group_pool(pool, households=False), 10, progress=seen.append)
    assert {p.step for p in seen} >= {"fairest probabilities", "final lottery"}
    assert all(0.0 <= p.fraction <= 1.0 for p in seen)
    assert seen[-1].step == "final lottery" and seen[-1].fraction == 1.0
    assert seen[-1].lowest == pytest.approx(min(p.lowest for p in seen if p.lowest is not None))
