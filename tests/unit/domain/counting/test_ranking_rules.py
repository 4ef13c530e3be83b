"""Tied (overvoted) and skipped ranks, read by the question's rule."""

from __future__ import annotations

import pytest

from polls.domain.ballots import OptionDef, QuestionDef
from polls.domain.counting import official
from polls.domain.counting.instant_runoff import instant_runoff
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.rules import read_marked
from polls.domain.counting.stv import stv
from polls.domain.questions import QuestionKind

A, B, C, D = 1, 2, 3, 4
TIE_THEN_C = ((A,), (B, D), (C,))  # A first, B and D tied second, C third
SKIP_THEN_C = ((A,), (), (C,))  # A first, no second, C third


@pytest.mark.parametrize(
    ("rule", "tie", "skip"),
    [
        ("scottish", ((A,), None), ((A,), None)),
        ("us", ((A,), None), ((A, C), None)),
        ("skip_tied", ((A, C), None), ((A, C), None)),
        ("one_left", ((A,), TIE_THEN_C), ((A, C), None)),
    ],
)
def test_each_rule_reads_a_tie_and_a_skip_its_own_way(rule: str, tie: object, skip: object) -> None:
    assert read_marked(rule, TIE_THEN_C) == tie
    assert read_marked(rule, SKIP_THEN_C) == skip


@pytest.mark.parametrize("rule", ["scottish", "us", "one_left"])
def test_a_tie_at_the_first_rank_leaves_no_valid_vote(rule: str) -> None:
    ballots = RankedBallots.weighted([A, B, C], [(((A, B), C), 4), ((C,), 1)], rule)
    assert ballots.total == 1


def test_skip_tied_passes_over_a_tie_at_the_first_rank() -> None:
    ballots = RankedBallots.weighted([A, B, C], [(((A, B), C), 4), ((C,), 1)], "skip_tied")
    assert ballots.rankings == (((C,), 5),)


def test_one_left_settles_a_tie_when_only_one_tied_option_is_still_in_the_count() -> None:
    # 5 ballots rank A first and B = D second. D (2) is excluded first; then A (5), whose ballots
    # meet the tie with only B still in the count: under one_left they go to B, 11 of 20, and B
    # wins. The other rules end those ballots at the tie (or pass over it, with nothing after):
    # B has 6, C 9 of 15 and C wins.
    marked = [(((A,), (B, D)), 5), ((B,), 6), ((C,), 9), ((D,), 2)]
    one_left = instant_runoff(RankedBallots.weighted([A, B, C, D], marked, "one_left"))
    assert [r.excluded for r in one_left.rounds] == [D, A, None]
    assert one_left.rounds[1].transfers[B] == 5 and one_left.winner == B
    for rule in ("scottish", "us", "skip_tied"):
        assert instant_runoff(RankedBallots.weighted([A, B, C, D], marked, rule)).winner == C


def test_a_tie_with_two_tied_options_still_in_the_count_ends_the_ballot_under_one_left() -> None:
    marked = [(((A,), (B, C)), 3), ((B,), 5), ((C,), 5), ((D,), 4)]
    result = stv(RankedBallots.weighted([A, B, C, D], marked, "one_left"), 1)
    exclusion_of_a = next(s for s in result.stages if s.candidate == A)
    assert exclusion_of_a.non_transferable == 3.0  # B and C both still in: the ballot ends


def test_the_question_setting_chooses_the_rule_and_counts_that_exclude_nobody_end_at_a_tie() -> None:
    options = (OptionDef(A, "Ash"), OptionDef(B, "Birch"), OptionDef(C, "Cedar"))
    ballots = [(((A,), (), (B,)), 3), (((C,), (A, B)), 2)]

    def question(rule: str) -> QuestionDef:
        return QuestionDef(1, QuestionKind.RANKED, "Q", {"seats": 1, "ranking_rule": rule}, options)

    borda_us = official.count(question("us"), ballots, "borda")
    borda_scottish = official.count(question("scottish"), ballots, "borda")
    assert borda_us.points[B] > borda_scottish.points[B]
    plurality = official.count(question("one_left"), ballots, "plurality")
    assert plurality.votes == {A: 3, B: 0, C: 2}


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="tied or skipped ranks is one of"):
        RankedBallots.weighted([A, B], [((A,), 1)], "texan")
