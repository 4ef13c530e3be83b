"""Plurality, approval and scale questions, and results as JSON."""

from __future__ import annotations

import json

import pytest

from polls.domain.counting.approval import approval
from polls.domain.counting.plurality import plurality
from polls.domain.counting.results import as_json, json_line
from polls.domain.counting.scale import scale


def test_plurality_ranks_options_by_votes() -> None:
    result = plurality([10, 11, 12], [(11, 5), (10, 3), (11, 1)])
    assert result.votes == {10: 3, 11: 6, 12: 0}
    assert result.ranking == (11, 10, 12) and result.winner == 11 and result.tie is None
    assert result.ballots == 9


def test_plurality_tie_for_first_is_decided_by_lot_and_recorded() -> None:
    result = plurality([10, 11], [(10, 2), (11, 2)])
    assert result.tie is not None and result.tie.among == result.ranking
    assert result.tie.decided_by == "lot" and result.winner == result.lot.order[0]


def test_plurality_with_no_ballots_has_no_winner() -> None:
    result = plurality([10, 11], [])
    assert result.winner is None and result.tie is None


def test_approval_counts_every_option_a_ballot_supports() -> None:
    result = approval([1, 2, 3], [([1, 2], 4), ([2], 3), ([], 1)])
    assert result.votes == {1: 4, 2: 7, 3: 0}
    assert result.winner == 2 and result.ballots == 8


def test_an_unlisted_option_is_refused() -> None:
    with pytest.raises(ValueError, match="not listed"):
        approval([1, 2], [([3], 1)])


def test_scale_gives_the_distribution_mean_and_median() -> None:
    result = scale(1, 5, [(1, 1), (4, 2), (5, 1)])
    assert result.distribution == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}
    assert result.mean == 3.5 and result.median == 4.0


def test_scale_median_of_an_even_count_is_half_way_between_the_middle_answers() -> None:
    assert scale(1, 5, [(2, 1), (3, 1)]).median == 2.5


def test_scale_with_no_answers_has_no_mean() -> None:
    result = scale(-2, 2, [])
    assert result.mean is None and result.median is None and list(result.distribution) == [-2, -1, 0, 1, 2]


def test_a_point_off_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="not on the scale"):
        scale(1, 5, [(6, 1)])


def test_results_are_plain_json_with_string_keys() -> None:
    result = plurality([10, 11], [(10, 2), (11, 1)])
    data = as_json(result)
    assert data["votes"] == {"10": 2, "11": 1} and data["lot"]["order"] == list(result.lot.order)
    assert json.loads(json_line(result)) == data
