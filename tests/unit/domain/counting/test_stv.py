"""Single transferable vote by the Scottish rules: worked examples stage by stage, ties, and properties."""

from __future__ import annotations

import hashlib
import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.results import as_json
from polls.domain.counting.stv import STVResult, stv
from polls.domain.counting.ties import Lot

ASH, BIRCH, CEDAR, DOGWOOD = 1, 2, 3, 4


def stage_summary(result: STVResult) -> list[tuple[str, int | None, dict[int, float], tuple[int, ...]]]:
    return [(s.action, s.candidate, s.votes, s.elected) for s in result.stages]


def test_wikipedia_food_election_elects_chocolate_oranges_and_strawberries() -> None:
    # Wikipedia, "Single transferable vote", worked example: 20 voters, 3 seats, Droop quota 6.
    oranges, pears, chocolate, strawberries, sweets = 1, 2, 3, 4, 5
    ballots = RankedBallots.weighted(
        [oranges, pears, chocolate, strawberries, sweets],
        [
            ((oranges,), 4),
            ((pears, oranges), 2),
            ((chocolate, strawberries), 8),
            ((chocolate, sweets), 4),
            ((strawberries,), 1),
            ((sweets,), 1),
        ],
    )
    result = stv(ballots, seats=3)
    assert result.quota == 6
    assert stage_summary(result) == [
        ("first preferences", None, {1: 4.0, 2: 2.0, 3: 12.0, 4: 1.0, 5: 1.0}, (chocolate,)),
        # surplus 6 of 12: every paper goes on at 6/12 = 0.5
        ("surplus", chocolate, {1: 4.0, 2: 2.0, 3: 6.0, 4: 5.0, 5: 3.0}, ()),
        ("exclusion", pears, {1: 6.0, 2: 0.0, 3: 6.0, 4: 5.0, 5: 3.0}, (oranges,)),
        # sweets' papers have no next preference; strawberries alone is left for the last seat
        ("exclusion", sweets, {1: 6.0, 2: 0.0, 3: 6.0, 4: 5.0, 5: 0.0}, (strawberries,)),
    ]
    assert result.stages[1].transfer_values == (0.5,)
    assert result.stages[3].last_vacancies and result.stages[3].non_transferable == 3.0
    assert result.elected == (chocolate, oranges, strawberries)


def three_seat_ward() -> RankedBallots:
    return RankedBallots.weighted(
        [ASH, BIRCH, CEDAR, DOGWOOD],
        [
            ((ASH, BIRCH, DOGWOOD), 60),
            ((ASH, CEDAR), 30),
            ((ASH,), 9),
            ((BIRCH, CEDAR), 35),
            ((CEDAR,), 20),
            ((DOGWOOD,), 26),
        ],
    )


def test_transfer_values_are_truncated_to_five_places_and_use_the_value_each_paper_had() -> None:
    """180 valid papers, 3 seats: quota floor(180 / 4) + 1 = 46 (rule 47).

    Stage 2, Ash's surplus 53 of 99: transfer value 53 x 1 / 99 = 0.535353... -> 0.53535 (rule 49(3)).
      Birch +60 x 0.53535 = 32.121, Cedar +30 x 0.53535 = 16.0605, non-transferable 9 x 0.53535 = 4.81815;
      99 x 0.53535 = 52.99965, so 0.00035 is lost to truncation.
    Stage 3, Birch's surplus 21.121 of 67.121; Birch holds papers of two values:
      first preferences: 21.121 x 1 / 67.121 = 0.314670... -> 0.31467, 35 to Cedar = 11.01345;
      papers from Ash: 21.121 x 0.53535 / 67.121 = 0.168457... -> 0.16845, 60 to Dogwood = 10.107.
      Cedar reaches 47.07395 and fills the last seat.
    """
    result = stv(three_seat_ward(), seats=3)
    assert result.quota == 46
    first, ash_surplus, birch_surplus = result.stages
    assert first.votes == {ASH: 99.0, BIRCH: 35.0, CEDAR: 20.0, DOGWOOD: 26.0} and first.elected == (ASH,)
    assert ash_surplus.transfer_values == (0.53535,)
    assert ash_surplus.transfers == {BIRCH: 32.121, CEDAR: 16.0605}
    assert ash_surplus.non_transferable == 4.81815 and ash_surplus.lost_to_rounding == 0.00035
    assert ash_surplus.votes == {ASH: 46.0, BIRCH: 67.121, CEDAR: 36.0605, DOGWOOD: 26.0}
    assert ash_surplus.elected == (BIRCH,)
    assert birch_surplus.transfer_values == (0.31467, 0.16845)
    assert birch_surplus.transfers == {CEDAR: 11.01345, DOGWOOD: 10.107}
    assert birch_surplus.lost_to_rounding == 0.00055
    assert birch_surplus.votes == {ASH: 46.0, BIRCH: 46.0, CEDAR: 47.07395, DOGWOOD: 36.107}
    assert result.elected == (ASH, BIRCH, CEDAR)


def test_equal_lowest_is_settled_by_the_most_recent_stage_where_they_differed() -> None:
    # rule 52(2)(a): Birch and Cedar have 7 each at stage 2, but Cedar had fewer (6 to 7) at stage 1.
    ballots = RankedBallots.weighted(
        [ASH, BIRCH, CEDAR, DOGWOOD],
        [((ASH,), 10), ((BIRCH, CEDAR), 7), ((CEDAR, BIRCH), 6), ((DOGWOOD, CEDAR), 1), ((DOGWOOD,), 2)],
    )
    result = stv(ballots, seats=1)
    assert result.quota == 14
    excluded = [(s.action, s.candidate) for s in result.stages[1:]]
    assert excluded == [("exclusion", DOGWOOD), ("exclusion", CEDAR), ("exclusion", ASH)]
    tie = result.stages[2].tie
    assert tie is not None and tie.among == (BIRCH, CEDAR)
    assert (tie.decided_by, tie.chosen) == ("earlier stage", CEDAR)
    # Birch never reaches 14 but is the only continuing candidate for the only seat (rule 53)
    assert result.stages[-1].last_vacancies and result.elected == (BIRCH,)


def test_tie_at_every_stage_is_decided_by_the_documented_lot() -> None:
    ballots = RankedBallots.weighted([ASH, BIRCH], [((ASH,), 2), ((BIRCH,), 2)])
    result = stv(ballots, seats=1)
    canonical = {"kind": "ranked", "options": [1, 2], "ballots": [[[1], 2], [[2], 2]], "extra": None}
    seed = hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
    lot_order = sorted([ASH, BIRCH], key=lambda o: hashlib.sha256(f"{seed}:{o}".encode()).hexdigest())
    assert result.lot.seed == seed and result.lot.order == tuple(lot_order)
    tie = result.stages[1].tie
    assert tie is not None and tie.decided_by == "lot"
    assert tie.chosen == lot_order[-1]  # the last in the lot order loses
    assert result.elected == (lot_order[0],)


def test_equal_surpluses_go_in_order_of_votes_at_an_earlier_stage() -> None:
    # 45 papers, 4 seats, quota 10. Fir's exclusion lifts Ash (9 + 2) and Birch (8 + 3) to 11 each:
    # equal surpluses of 1; Ash had more at stage 1, so Ash's surplus goes first (rule 50(2)).
    elm, fir = 5, 6
    ballots = RankedBallots.weighted(
        [ASH, BIRCH, CEDAR, DOGWOOD, elm, fir],
        [
            ((ASH, CEDAR), 9),
            ((BIRCH, DOGWOOD), 8),
            ((CEDAR,), 8),
            ((DOGWOOD,), 8),
            ((elm,), 7),
            ((fir, ASH), 2),
            ((fir, BIRCH), 3),
        ],
    )
    result = stv(ballots, seats=4)
    assert result.quota == 10
    assert result.stages[1].elected == (ASH, BIRCH)
    third = result.stages[2]
    assert (third.action, third.candidate) == ("surplus", ASH)
    assert (
        third.tie is not None and third.tie.among == (ASH, BIRCH) and third.tie.decided_by == "earlier stage"
    )
    assert third.transfer_values == (0.0909,)  # 1 / 11 = 0.090909... -> 0.09090
    assert third.transfers == {CEDAR: 0.8181} and third.non_transferable == 0.1818


def test_more_seats_than_candidates_elects_them_all_at_once() -> None:
    ballots = RankedBallots.weighted([ASH, BIRCH], [((ASH,), 3)])
    result = stv(ballots, seats=3)
    assert set(result.elected) == {ASH, BIRCH} and len(result.stages) == 1
    assert result.stages[0].last_vacancies


def test_no_ballots_elects_nobody() -> None:
    result = stv(RankedBallots.of([ASH, BIRCH], []), seats=1)
    assert result.elected == () and result.stages == ()


rankings = st.integers(min_value=2, max_value=6).flatmap(
    lambda m: st.tuples(
        st.just(m),
        st.lists(
            st.permutations(range(m)).flatmap(lambda p: st.integers(1, m).map(lambda k: tuple(p[:k]))),
            max_size=60,
        ),
    )
)


@settings(max_examples=150, deadline=None)
@given(rankings, st.integers(min_value=1, max_value=6))
def test_stv_elects_exactly_the_seats_unless_candidates_run_out(
    data: tuple[int, list[tuple[int, ...]]], seats: int
) -> None:
    m, ballots = data
    result = stv(RankedBallots.of(range(m), ballots), seats)
    if ballots:
        assert len(result.elected) == min(seats, m) == len(set(result.elected))


@settings(max_examples=150, deadline=None)
@given(rankings, st.integers(min_value=1, max_value=4))
def test_every_vote_is_accounted_for_at_every_stage(
    data: tuple[int, list[tuple[int, ...]]], seats: int
) -> None:
    m, ballots = data
    result = stv(RankedBallots.of(range(m), ballots), seats)
    set_aside = 0
    for stage in result.stages:
        set_aside += round(stage.non_transferable * 100_000) + round(stage.lost_to_rounding * 100_000)
        held = sum(round(v * 100_000) for v in stage.votes.values())
        assert held + set_aside == result.ballots * 100_000


@settings(max_examples=60, deadline=None)
@given(rankings, st.integers(min_value=1, max_value=4), st.randoms(use_true_random=False))
def test_stv_result_does_not_depend_on_ballot_order(
    data: tuple[int, list[tuple[int, ...]]], seats: int, rng: random.Random
) -> None:
    m, ballots = data
    shuffled = list(ballots)
    rng.shuffle(shuffled)
    assert as_json(stv(RankedBallots.of(range(m), ballots), seats)) == as_json(
        stv(RankedBallots.of(range(m), shuffled), seats)
    )


def test_a_given_lot_order_is_used_and_recorded() -> None:
    ballots = RankedBallots.weighted([ASH, BIRCH], [((ASH,), 2), ((BIRCH,), 2)])
    lot = Lot("drawn at the count", (BIRCH, ASH))
    result = stv(ballots, seats=1, lot=lot)
    assert result.elected == (BIRCH,) and result.lot == lot
