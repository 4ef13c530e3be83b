"""Budget questions: greedy allocation and the Method of Equal Shares with its completion."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polls.domain.counting.budget import BudgetBallots, greedy
from polls.domain.counting.equal_shares import equal_shares
from polls.domain.counting.results import as_json
from polls.domain.counting.shares_variants import COMPLETIONS, Variant
from polls.domain.counting.ties import Lot

PARK, POOL, LIBRARY, BENCHES = 1, 2, 3, 4


def test_greedy_funds_by_votes_and_skips_what_no_longer_fits() -> None:
    ballots = BudgetBallots.weighted(
        [(PARK, 600), (POOL, 500), (LIBRARY, 300), (BENCHES, 50)],
        1000,
        [([PARK, POOL], 5), ([PARK], 5), ([POOL], 3), ([LIBRARY], 5)],
    )
    result = greedy(ballots)
    steps = [(s.project, s.votes, s.funded, s.left) for s in result.steps]
    # the pool (8 votes) no longer fits once the park is funded; the library (5) still does
    assert steps == [(PARK, 10, True, 400), (POOL, 8, False, 400), (LIBRARY, 5, True, 100)]
    assert result.funded == (PARK, LIBRARY) and result.spent == 900
    assert BENCHES not in result.funded  # it would fit, but nobody voted for it


def test_equal_shares_on_lackner_and_skowrons_example_buys_a_at_one_eighth_each() -> None:
    # "Multi-Winner Voting with Approval Preferences", Example 1: 12 voters, committee of 4, so a
    # budget of 4 and unit costs; each voter starts with 1/3. Rule X (equal shares) buys a at 1/8
    # per supporter; then b and c (23/24 of backing each), d, e, f and g are all unaffordable.
    a, b, c, d, e, f, g = range(1, 8)
    ballots = BudgetBallots.weighted(
        [(p, 1) for p in (a, b, c, d, e, f, g)],
        4,
        [([a, b], 3), ([a, c], 3), ([a, d], 2), ([b, c, f], 1), ([e], 1), ([f], 1), ([g], 1)],
    )
    plain = equal_shares(ballots, Variant("approval", "none"))
    assert [(p.project, p.price, p.supporters) for p in plain.purchases] == [(a, 0.125, 8)]
    assert plain.funded == (a,) and plain.share == 1 / 3
    # completion: a share of 1 (the whole part of 1/3, plus one) overspends at once, so greedy
    # fills the other 3 by votes, b and c (4 votes each) then d or f (2 each; the lot order given
    # here favours d)
    lot = Lot("listed", (a, b, c, d, e, f, g))
    completed = equal_shares(ballots, Variant("approval", "add1_greedy"), lot=lot)
    assert completed.rises == 0 and completed.funded == (a, b, c, d) and completed.spent == 4
    assert completed.stopped == "the next rise would overspend the budget"
    assert {t.among for t in completed.ties} == {(b, c), (d, f), (e, g)}


def test_equal_shares_is_proportional_where_greedy_is_not() -> None:
    # 51% want the red projects, 49% the blue ones; money for two
    red1, red2, blue1, blue2 = 1, 2, 3, 4
    ballots = BudgetBallots.weighted(
        [(red1, 100), (red2, 100), (blue1, 100), (blue2, 100)],
        200,
        [([red1, red2], 51), ([blue1, blue2], 49)],
    )
    assert set(greedy(ballots).funded) == {red1, red2}
    funded = equal_shares(ballots).funded
    assert len(set(funded) & {red1, red2}) == 1 and len(set(funded) & {blue1, blue2}) == 1


def test_add1_completion_raises_shares_while_the_outcome_still_fits() -> None:
    # 4 voters, 40 to share (10 each); the 3-voter project costs 36 so 12 each is needed
    ballots = BudgetBallots.weighted([(PARK, 36), (POOL, 4)], 40, [([PARK], 3), ([POOL], 1)])
    assert equal_shares(ballots, Variant(completion="none")).funded == (POOL,)
    result = equal_shares(ballots)
    assert result.rises == 2 and result.share == 12.0 and set(result.funded) == {PARK, POOL}
    assert result.stopped == "the outcome leaves no room for another project"


def test_add1_rises_from_the_whole_part_of_the_share_as_the_reference_does() -> None:
    # 3 voters and 100: a share of 33.33; the rises give 34, 35, ... (not 34.33, 35.33)
    ballots = BudgetBallots.weighted([(PARK, 70), (POOL, 30)], 100, [([PARK], 2), ([POOL], 1)])
    result = equal_shares(ballots)
    assert result.rises == 2 and result.share == 35.0 and result.funded == (PARK, POOL)


def test_add1_stops_at_an_outcome_with_no_room_left_and_add1_with_exhaustion_goes_on() -> None:
    # 10 voters share 100 (cost utilities). The 7 buy the library (50, cheaper than the pool at the
    # same 1/7 per pound); the 3 park voters need 40 between them, so 14 each: the outcome at 14
    # leaves 10, too little for the pool (60), and add1 stops there.
    ballots = BudgetBallots.weighted(
        [(PARK, 40), (POOL, 60), (LIBRARY, 50)], 100, [([PARK], 3), ([POOL, LIBRARY], 7)]
    )
    add1 = equal_shares(ballots)
    assert add1.funded == (LIBRARY, PARK) and add1.rises == 4 and add1.share == 14.0
    assert add1.stopped == "the outcome leaves no room for another project"
    # with exhaustion the rises go on: at 16 the 7 could buy the pool as well, which overspends,
    # so the outcome at 15 is kept
    exhaust = equal_shares(ballots, Variant(completion="add1_exhaust"))
    assert exhaust.funded == (LIBRARY, PARK) and exhaust.rises == 5
    assert exhaust.stopped == "the next rise would overspend the budget"


def test_cost_utilities_count_supporters_where_approval_utilities_count_the_price() -> None:
    # everyone supports the park (90: 9 each); half support the pool (10: 2 each)
    ballots = BudgetBallots.weighted([(PARK, 90), (POOL, 10)], 100, [([PARK, POOL], 5), ([PARK], 5)])
    assert [p.project for p in equal_shares(ballots, Variant("cost", "none")).purchases] == [PARK]
    assert [p.project for p in equal_shares(ballots, Variant("approval", "none")).purchases] == [POOL, PARK]


def test_equal_prices_go_to_the_cheaper_project_then_to_more_supporters_then_by_lot() -> None:
    # approval utilities, 5 each: park 20 by 4, pool 10 by 2, library 10 by 2 all cost 5 each
    ballots = BudgetBallots.weighted(
        [(PARK, 20), (POOL, 10), (LIBRARY, 10)], 40, [([PARK], 4), ([POOL], 2), ([LIBRARY], 2)]
    )
    result = equal_shares(ballots, Variant("approval", "none"), lot=Lot("listed", (PARK, POOL, LIBRARY)))
    assert [(t.among, t.decided_by, t.chosen) for t in result.ties] == [
        ((PARK, POOL, LIBRARY), "lot", POOL),  # pool and library are cheaper, with equal backing
        ((PARK, LIBRARY), "lower cost", LIBRARY),
    ]
    assert result.funded == (POOL, LIBRARY, PARK)


def test_each_difference_from_a_greedy_count_is_explained() -> None:
    red1, red2, blue1, blue2 = 1, 2, 3, 4
    ballots = BudgetBallots.weighted(
        [(red1, 100), (red2, 100), (blue1, 100), (blue2, 100)],
        200,
        [([red1, red2], 51), ([blue1, blue2], 49)],
    )
    result = equal_shares(ballots)
    assert set(result.greedy_funded) == {red1, red2}
    by_greedy = {d.project for d in result.differences if d.funded_by_greedy}
    by_shares = {d.project for d in result.differences if not d.funded_by_greedy}
    assert len(by_greedy) == 1 and len(by_shares) == 1 and by_shares <= {blue1, blue2}
    assert all("equal shares" in d.reason for d in result.differences)


def test_a_variant_outside_the_list_is_refused() -> None:
    with pytest.raises(ValueError, match="completion is one of"):
        Variant(completion="add2")


budget_questions = st.integers(min_value=1, max_value=7).flatmap(
    lambda m: st.tuples(
        st.lists(st.integers(0, 300), min_size=m, max_size=m),
        st.integers(0, 1000),
        st.lists(st.lists(st.integers(1, m), unique=True), max_size=30),
    )
)


def budget_ballots(question: tuple[list[int], int, list[list[int]]]) -> BudgetBallots:
    costs, budget, votes = question
    return BudgetBallots.weighted(list(enumerate(costs, start=1)), budget, [(v, 1) for v in votes])


@settings(max_examples=150, deadline=None)
@given(budget_questions)
def test_budget_outcomes_never_exceed_the_budget(question: tuple[list[int], int, list[list[int]]]) -> None:
    ballots = budget_ballots(question)
    votes = ballots.votes()
    variants = [Variant(u, c) for u in ("cost", "approval") for c in COMPLETIONS]
    for result in (greedy(ballots), *(equal_shares(ballots, v) for v in variants)):
        assert result.spent == sum(ballots.costs[p] for p in result.funded) <= ballots.budget
        assert len(set(result.funded)) == len(result.funded)
        assert all(votes[p] > 0 for p in result.funded)
        if result.method == "greedy" or result.completion == "add1_greedy":  # these leave no room
            left = ballots.budget - result.spent
            waiting = [p for p in ballots.projects if votes[p] and p not in result.funded]
            assert all(ballots.costs[p] > left for p in waiting)


@settings(max_examples=60, deadline=None)
@given(budget_questions, st.randoms(use_true_random=False))
def test_budget_results_do_not_depend_on_ballot_order(
    question: tuple[list[int], int, list[list[int]]], rng: random.Random
) -> None:
    costs, budget, votes = question
    shuffled = list(votes)
    rng.shuffle(shuffled)
    for count in (greedy, equal_shares):
        assert as_json(count(budget_ballots(question))) == as_json(
            count(budget_ballots((costs, budget, shuffled)))
        )
