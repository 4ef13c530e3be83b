"""Instant-runoff, Borda, Condorcet and Schulze: worked examples and properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polls.domain.counting.borda import borda
from polls.domain.counting.condorcet import condorcet
from polls.domain.counting.instant_runoff import instant_runoff
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.results import as_json
from polls.domain.counting.schulze import schulze

MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE = 1, 2, 3, 4


def tennessee() -> RankedBallots:
    # Wikipedia's running example: choosing Tennessee's capital, 100 voters.
    return RankedBallots.weighted(
        [MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE],
        [
            ((MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE), 42),
            ((NASHVILLE, CHATTANOOGA, KNOXVILLE, MEMPHIS), 26),
            ((CHATTANOOGA, KNOXVILLE, NASHVILLE, MEMPHIS), 15),
            ((KNOXVILLE, CHATTANOOGA, NASHVILLE, MEMPHIS), 17),
        ],
    )


def test_instant_runoff_in_tennessee_elects_knoxville_round_by_round() -> None:
    result = instant_runoff(tennessee())
    rounds = [(r.votes, r.excluded, r.transfers, r.elected) for r in result.rounds]
    assert rounds == [
        ({1: 42, 2: 26, 3: 15, 4: 17}, CHATTANOOGA, {1: 0, 2: 0, 4: 15}, None),
        ({1: 42, 2: 26, 4: 32}, NASHVILLE, {1: 0, 4: 26}, None),
        ({1: 42, 4: 58}, None, {}, KNOXVILLE),
    ]
    assert result.winner == KNOXVILLE


def test_borda_in_tennessee_elects_nashville() -> None:
    # Classic Borda gives 3, 2, 1, 0 points: Nashville 194, Chattanooga 173, Memphis 126, Knoxville 107.
    # The modified count gives 4, 3, 2, 1 to a complete ranking: one more point per ballot each.
    result = borda(tennessee())
    assert result.points == {MEMPHIS: 226, NASHVILLE: 294, CHATTANOOGA: 273, KNOXVILLE: 207}
    assert result.ranking == (NASHVILLE, CHATTANOOGA, MEMPHIS, KNOXVILLE)
    assert result.winner == NASHVILLE


def test_borda_gives_a_short_ranking_only_as_many_points_as_it_ranks() -> None:
    result = borda(RankedBallots.weighted([1, 2, 3], [((1,), 1), ((2, 3), 1)]))
    assert result.points == {1: 1, 2: 2, 3: 1}


def test_condorcet_in_tennessee_is_nashville() -> None:
    result = condorcet(tennessee())
    assert result.winner == NASHVILLE
    assert result.prefer[NASHVILLE][CHATTANOOGA] == 68 and result.prefer[CHATTANOOGA][NASHVILLE] == 32
    assert result.wins == {MEMPHIS: 0, NASHVILLE: 3, CHATTANOOGA: 2, KNOXVILLE: 1}


def test_condorcet_cycle_has_no_winner() -> None:
    ballots = RankedBallots.weighted([1, 2, 3], [((1, 2, 3), 1), ((2, 3, 1), 1), ((3, 1, 2), 1)])
    assert condorcet(ballots).winner is None


def test_unranked_options_are_below_ranked_ones_head_to_head() -> None:
    result = condorcet(RankedBallots.weighted([1, 2, 3], [((1,), 3), ((2,), 2)]))
    assert result.prefer[1] == {2: 3, 3: 3} and result.prefer[2][3] == 2 and result.prefer[3] == {1: 0, 2: 0}
    assert result.winner == 1


def test_schulze_on_wikipedias_45_voter_example_ranks_e_a_c_b_d() -> None:
    a, b, c, d, e = 1, 2, 3, 4, 5
    letters = {"A": a, "B": b, "C": c, "D": d, "E": e}
    votes = [(5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"), (7, "CAEBD"), (2, "CBADE"), (7, "DCEBA")]
    votes.append((8, "EBADC"))
    ballots = RankedBallots.weighted([a, b, c, d, e], [(tuple(letters[x] for x in s), n) for n, s in votes])
    result = schulze(ballots)
    assert result.tiers == ((e,), (a,), (c,), (b,), (d,))
    assert result.winners == (e,) and result.winner == e and result.tie is None
    assert result.strongest_paths[e][a] > result.strongest_paths[a][e]


def test_schulze_ties_share_a_tier_and_the_lot_orders_them() -> None:
    result = schulze(RankedBallots.weighted([1, 2], [((1, 2), 1), ((2, 1), 1)]))
    assert result.tiers == (tuple(sorted((1, 2), key=result.lot.place)),)
    assert result.tie is not None and result.tie.decided_by == "lot" and result.winner == result.lot.order[0]


def test_instant_runoff_exclusion_tie_is_settled_by_the_earlier_round() -> None:
    # round 2: 2 and 3 both have 4, but 3 had fewer in round 1 (3 against 4)
    ballots = RankedBallots.weighted([1, 2, 3, 4], [((1,), 6), ((2,), 4), ((3, 2), 3), ((4, 3), 1)])
    result = instant_runoff(ballots)
    tie = result.rounds[1].tie
    assert tie is not None and (tie.decided_by, tie.chosen) == ("earlier stage", 3)
    assert result.rounds[1].transfers == {1: 0, 2: 3} and result.rounds[1].non_transferable == 1
    assert result.winner == 2


def test_exhausted_ballots_no_longer_count_towards_the_majority() -> None:
    ballots = RankedBallots.weighted([1, 2, 3], [((1,), 4), ((2,), 3), ((3,), 2)])
    result = instant_runoff(ballots)
    assert result.rounds[-1].exhausted == 2 and result.rounds[-1].votes == {1: 4, 2: 3}
    assert result.winner == 1  # 4 of the 7 ballots still counting


def test_ranking_an_option_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        RankedBallots.of([1, 2], [(1, 1)])


permutations_of = st.integers(min_value=2, max_value=6).flatmap(
    lambda m: st.tuples(st.just(m), st.lists(st.permutations(range(m)).map(tuple), max_size=40))
)


@settings(max_examples=200, deadline=None)
@given(permutations_of, st.data())
def test_a_majority_winner_always_wins_instant_runoff(
    data: tuple[int, list[tuple[int, ...]]], draw: st.DataObject
) -> None:
    m, others = data
    favourite = draw.draw(st.integers(0, m - 1))
    tails = draw.draw(st.lists(st.permutations([o for o in range(m) if o != favourite]), min_size=1))
    backers = [(favourite, *tails[i % len(tails)]) for i in range(len(others) + 1)]
    result = instant_runoff(RankedBallots.of(range(m), others + backers))
    assert result.winner == favourite
    assert len(result.rounds) == 1  # a majority of first preferences wins at once


@settings(max_examples=80, deadline=None)
@given(permutations_of, st.randoms(use_true_random=False))
def test_ranked_results_do_not_depend_on_ballot_order(
    data: tuple[int, list[tuple[int, ...]]], rng: random.Random
) -> None:
    m, ballots = data
    shuffled = list(ballots)
    rng.shuffle(shuffled)
    for method in (instant_runoff, borda, schulze, condorcet):
        assert as_json(method(RankedBallots.of(range(m), ballots))) == as_json(
            method(RankedBallots.of(range(m), shuffled))
        )
