"""STV by Meek's method: worked examples and properties.

The figures of the worked examples were worked by hand from the definition of the method (Hill,
Wichmann and Woodall, Algorithm 123, The Computer Journal 30(3), 1987: keep values, the quota
(votes - excess) / (seats + 1), fixed-point arithmetic to 10^-9 with votes rounded down and keep
values rounded up); they are not copied from a published table, which could not be consulted here.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polls.domain.counting.meek import meek
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.stv import stv

A, B, C, X = 1, 2, 3, 4


def test_a_surplus_passes_on_at_one_minus_the_keep_value() -> None:
    # 2 seats, 100 votes: quota 100/3 = 33.333333334. A (60) is elected; A's keep value becomes
    # 33.333333334 / 60 = 0.555555556 (rounded up), so each A>B ballot passes on 0.444444444 and B
    # has 10 + 60 x 0.444444444 = 36.66666664: B is elected at the second stage.
    ballots = RankedBallots.weighted([A, B, C], [((A, B), 60), ((C,), 30), ((B,), 10)])
    result = meek(ballots, 2)
    first, second = result.stages
    assert first.quota == pytest.approx(33.333333334, abs=1e-9) and first.elected == (A,)
    assert second.keep_values[A] == pytest.approx(0.555555556, abs=1e-9)
    assert second.votes[A] == pytest.approx(33.33333336, abs=1e-9)
    assert second.votes[B] == pytest.approx(36.66666664, abs=1e-9) and second.elected == (B,)
    assert result.elected == (A, B) and result.transfers == "meek"


def test_an_exhausted_surplus_lowers_the_quota() -> None:
    # A's 45 ballots name nobody else, so what A does not keep is excess. After one pass at keep
    # 33.333333334 / 45 = 0.740740741, the excess is 45 x 0.259259259 = 11.666666655, the quota
    # (100 - 11.666666655) / 3 = 29.444444449, and B's 30 reach it: elected without excluding C.
    # The Scottish rules keep the quota at 34 and elect B only as the last vacancy, after C goes.
    ballots = RankedBallots.weighted([A, B, C], [((A,), 45), ((B,), 30), ((C,), 25)])
    result = meek(ballots, 2)
    second = result.stages[1]
    assert second.non_transferable == pytest.approx(11.666666655, abs=1e-9)
    assert second.quota == pytest.approx(29.444444449, abs=1e-9)
    assert second.action == "surplus" and second.elected == (B,) and not second.last_vacancies
    scottish = stv(ballots, 2)
    assert scottish.elected == (A, B) and scottish.stages[-1].last_vacancies


def test_votes_passing_an_elected_candidate_share_its_surplus_with_all_its_voters() -> None:
    # A (40, A>C) is elected at once; X's 15 voters put A second and B third. When X is excluded,
    # the Scottish rules skip A and give all 15 to B (24 + 15 = 39 >= 34): A and B elected. Under
    # Meek the 15 reach A, whose keep value falls from 0.833333334 to 0.606060607 so that A holds
    # the quota from 55 ballots: every A voter passes on 0.393939393. C gets 21 + 40 x that =
    # 36.75757572 and is elected; B 24 + 15 x that = 29.909090895.
    ballots = RankedBallots.weighted([A, B, C, X], [((A, C), 40), ((X, A, B), 15), ((B,), 24), ((C,), 21)])
    result = meek(ballots, 2)
    exclusion = result.stages[-1]
    assert (exclusion.action, exclusion.candidate) == ("exclusion", X)
    assert exclusion.keep_values[A] == pytest.approx(0.606060607, abs=1e-9)
    assert exclusion.votes[C] == pytest.approx(36.75757572, abs=1e-9)
    assert exclusion.votes[B] == pytest.approx(29.909090895, abs=1e-9)
    assert result.elected == (A, C)
    assert stv(ballots, 2).elected == (A, B)


def test_more_seats_than_candidates_elects_everyone_as_the_last_vacancies() -> None:
    result = meek(RankedBallots.weighted([A, B], [((A,), 3), ((B,), 1)]), 3)
    assert set(result.elected) == {A, B} and result.stages[-1].last_vacancies


def test_no_ballots_elect_nobody() -> None:
    result = meek(RankedBallots.weighted([A, B], []), 1)
    assert result.elected == () and result.stages == ()


profiles = st.integers(min_value=2, max_value=6).flatmap(
    lambda m: st.tuples(
        st.just(m),
        st.integers(min_value=1, max_value=m - 1),
        st.lists(st.permutations(list(range(m))), min_size=1, max_size=40),
        st.lists(st.lists(st.integers(0, m - 1), min_size=1, max_size=m, unique=True), max_size=40),
    )
)


@settings(max_examples=300, deadline=None)
@given(profiles)
def test_meek_and_scottish_stv_agree_where_no_surplus_is_transferred(
    profile: tuple[int, int, list[list[int]], list[list[int]]],
) -> None:
    """With complete rankings no ballot is exhausted, so Meek's quota V / (seats + 1) + 10^-9 and
    the Scottish floor(V / (seats + 1)) + 1 are met by the same whole numbers of votes; where
    neither count passes on a surplus, both are the same exclusions and elect the same, in order.
    (Truncated rankings exhaust, which lowers Meek's quota: a rule difference, not a surplus.)"""
    m, seats, complete, _ = profile
    ballots = RankedBallots.of(range(m), complete)
    scottish, by_meek = stv(ballots, seats), meek(ballots, seats)
    if any(s.tie for s in (*scottish.stages, *by_meek.stages)):
        return  # the two draw their lots at different points
    if any(s.action == "surplus" for s in scottish.stages):
        return
    if any(k < 1 for s in by_meek.stages for k in s.keep_values.values()):
        return
    assert by_meek.elected == scottish.elected


@settings(max_examples=300, deadline=None)
@given(profiles)
def test_a_candidate_at_or_above_the_quota_is_never_excluded(
    profile: tuple[int, int, list[list[int]], list[list[int]]],
) -> None:
    m, seats, complete, truncated = profile
    for rankings in (complete, truncated):
        ballots = RankedBallots.of(range(m), rankings)
        result = meek(ballots, seats)
        for before, stage in zip(result.stages, result.stages[1:], strict=False):
            if stage.action == "exclusion":
                assert stage.candidate is not None
                assert before.votes[stage.candidate] < before.quota
        assert len(result.elected) == min(seats, m) if ballots.total else result.elected == ()
        scottish = stv(ballots, seats)
        for before, s in zip(scottish.stages, scottish.stages[1:], strict=False):
            if s.action == "exclusion" and s.candidate is not None:
                assert before.votes[s.candidate] < scottish.quota
