"""Quotas no panel can meet: a report of which conflict and the smallest change that fixes them."""

from __future__ import annotations

import pytest

from polls.domain.sortition import Person, Pool, Quota, Quotas, fairest_lottery, group_pool
from polls.domain.sortition.relaxation import Relaxation, explain_infeasible
from polls.errors import QuotasInfeasible


def pool_of(
    features: list[tuple[str, str]], quotas: list[tuple[str, str, int, int]], homes: str = ""
) -> Pool:
    people = tuple(
        Person(f"p{i}", f, household=homes[i] if i < len(homes) else None) for i, f in enumerate(features)
    )
    return Pool(people, Quotas(tuple(Quota(*q) for q in quotas)))


FEATURES = [("f", "young")] * 3 + [("f", "old")] * 3 + [("m", "young")] * 3 + [("m", "old")] * 3


def report_for(pool: Pool, size: int, households: bool = False) -> QuotasInfeasible:
    with pytest.raises(QuotasInfeasible) as caught:
        fairest_lottery(group_pool(pool, households=households), size)
    return caught.value


def test_minimums_adding_up_to_more_than_the_panel_are_named_with_the_fix() -> None:
    pool = pool_of(
        FEATURES,
        [("sex", "f", 3, 4), ("sex", "m", 3, 4), ("age", "young", 1, 6), ("age", "old", 1, 6)],
    )
    error = report_for(pool, 5)
    assert error.code == "quotas_infeasible" and error.status == 422
    assert "the minimums for sex add up to 6, more than the panel's 5" in error.report.conflicts
    (fix,) = error.report.relaxations
    assert fix.quota.category == "sex" and fix.min == fix.quota.min - 1 and fix.max == fix.quota.max
    assert "lower the minimum from 3 to 2" in error.message


def test_conflicting_quotas_across_categories_get_the_smallest_total_relaxation() -> None:
    # Every woman is young and every man old; the quotas want 3 women but at most 1 young person.
    features = [("f", "young")] * 4 + [("m", "old")] * 4
    pool = pool_of(
        features, [("sex", "f", 3, 4), ("sex", "m", 0, 4), ("age", "young", 0, 1), ("age", "old", 0, 4)]
    )
    error = report_for(pool, 4)
    assert error.report.conflicts == ()  # no single category is at fault: only the MIP can say
    total = sum(r.quota.min - r.min + r.max - r.quota.max for r in error.report.relaxations)
    assert total == 2
    assert "(2 in total)" in error.message
    for relaxation in error.report.relaxations:
        assert (relaxation.quota.category, relaxation.quota.feature) in {("sex", "f"), ("age", "young")}


def test_a_minimum_above_the_people_in_the_pool_is_named() -> None:
    quotas = [("sex", "f", 1, 6), ("sex", "m", 1, 6), ("age", "young", 7, 8), ("age", "old", 0, 8)]
    error = report_for(pool_of(FEATURES, quotas), 8)
    assert "the pool has 6 people with age 'young', fewer than the minimum of 7" in error.report.conflicts
    assert error.report.relaxations == (Relaxation(Quota("age", "young", 7, 8), 6, 8),)
    assert "age 'young': lower the minimum from 7 to 6" in error.message


def test_a_pool_smaller_than_the_panel_cannot_be_fixed_by_quotas() -> None:
    pool = pool_of(
        FEATURES[:4], [("sex", "f", 0, 9), ("sex", "m", 0, 9), ("age", "young", 0, 9), ("age", "old", 0, 9)]
    )
    error = report_for(pool, 5)
    assert "the pool has 4 people, fewer than the panel's 5" in error.report.conflicts
    assert error.report.relaxations == ()
    assert "the pool is too small" in error.message


def test_households_can_make_a_pool_too_small() -> None:
    pool = pool_of(
        FEATURES[:4],
        [("sex", "f", 0, 9), ("sex", "m", 0, 9), ("age", "young", 0, 9), ("age", "old", 0, 9)],
        "AABB",
    )
    error = report_for(pool, 3, households=True)
    assert "the pool has people from 2 households, fewer than the panel's 3" in error.report.conflicts


def test_a_feasible_pool_has_nothing_to_relax() -> None:
    pool = pool_of(
        FEATURES, [("sex", "f", 2, 3), ("sex", "m", 2, 3), ("age", "young", 2, 3), ("age", "old", 2, 3)]
    )
    report = explain_infeasible(group_pool(pool, households=False), 5)
    assert report.conflicts == () and report.relaxations == ()
