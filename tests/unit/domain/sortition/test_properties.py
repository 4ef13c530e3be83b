"""Properties of selection on small random pools, against the brute force where it can say."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polls.domain.sortition import (
    Person,
    Pool,
    Quota,
    Quotas,
    commitment,
    draw,
    fairest_lottery,
    group_pool,
    make_lottery,
    verify,
)
from polls.errors import QuotasInfeasible
from tests.unit.domain.sortition.test_leximin import brute_force_leximin, by_person


@st.composite
def pools(draw_from: st.DrawFn) -> tuple[Pool, int, bool]:
    features = draw_from(st.lists(st.integers(2, 3), min_size=1, max_size=3))
    n = draw_from(st.integers(3, 8))
    size = draw_from(st.integers(1, n - 1))
    households = draw_from(st.booleans())
    people = tuple(
        Person(
            f"p{i}",
            tuple(f"v{draw_from(st.integers(0, f - 1))}" for f in features),
            draw_from(st.sampled_from(["A", "B", None, None, None])) if households else None,
        )
        for i in range(n)
    )
    quotas = []
    for c, f in enumerate(features):
        for v in range(f):
            low = draw_from(st.integers(0, size // f + 1))
            quotas.append(Quota(f"c{c}", f"v{v}", low, draw_from(st.integers(low, size))))
    return Pool(people, Quotas(tuple(quotas))), size, households


@settings(max_examples=60, deadline=None)
@given(pools())
def test_the_lottery_is_leximin_or_the_quotas_are_reported_infeasible(case: tuple[Pool, int, bool]) -> None:
    pool, size, households = case
    expected = brute_force_leximin(pool, size, households)
    groups = group_pool(pool, households=households)
    if expected is None:
        with pytest.raises(QuotasInfeasible) as caught:
            fairest_lottery(groups, size)
        relaxed = {(r.quota.category, r.quota.feature): r for r in caught.value.report.relaxations}
        if relaxed:  # the reported change really does make a panel possible
            quotas = Quotas(
                tuple(
                    dataclasses.replace(
                        q, min=relaxed[q.category, q.feature].min, max=relaxed[q.category, q.feature].max
                    )
                    if (q.category, q.feature) in relaxed
                    else q
                    for q in pool.quotas.quotas
                )
            )
            assert brute_force_leximin(Pool(pool.people, quotas), size, households) is not None
        return
    distribution = fairest_lottery(groups, size)
    for panel in distribution.panels:
        assert groups.problems(panel, size) == []
    found = by_person(distribution)
    assert sum(found.values()) == pytest.approx(size, abs=1e-6)
    for person, probability in expected.items():
        assert found[person] == pytest.approx(probability, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(pools(), st.text(min_size=1, max_size=20), st.integers(0, 4))
def test_a_draw_always_verifies_and_is_a_valid_panel(
    case: tuple[Pool, int, bool], seed: str, reserves: int
) -> None:
    pool, size, households = case
    groups = group_pool(pool, households=households)
    try:
        distribution = fairest_lottery(groups, size)
    except QuotasInfeasible:
        return
    lottery = make_lottery(distribution, households_apart=households, seed_sha256=commitment(seed))
    record = draw(lottery, seed, reserves=reserves)
    assert record == draw(lottery, seed, reserves=reserves)
    assert verify(lottery, seed, record, pool) == []
    seated = tuple(sum(p in record.panel for p in g.ids) for g in groups.groups)
    assert groups.problems(seated, size) == []
    assert not set(record.reserves) & set(record.panel)
