"""Checking answers: the quick check for plainly valid answers agrees with the full check."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from polls.domain.ballots import (
    OptionDef,
    PollDef,
    QuestionDef,
    _check_answer,
    _Problems,
    check_ballot,
    plainly_valid,
)
from polls.domain.questions import QuestionKind

SINGLE = QuestionDef(
    1, QuestionKind.SINGLE, "Pick one", {}, tuple(OptionDef(i, f"o{i}") for i in (10, 11, 12))
)
MULTIPLE = QuestionDef(
    2,
    QuestionKind.MULTIPLE,
    "Pick up to two",
    {"min_choices": 1, "max_choices": 2},
    tuple(OptionDef(i, f"o{i}") for i in (20, 21, 22)),
)
SCALE = QuestionDef(3, QuestionKind.SCALE, "How much?", {"scale_min": 1, "scale_max": 5})
POLL = PollDef(1, 1, frozenset(), (SINGLE, MULTIPLE, SCALE))

numbers = st.one_of(st.integers(-3, 25), st.booleans(), st.sampled_from(["10", "3", " 21", "x", ""]))
answers = st.one_of(numbers, st.none(), st.lists(numbers, max_size=4), st.floats(allow_nan=False))


@given(question=st.sampled_from([SINGLE, MULTIPLE, SCALE]), value=answers)
def test_a_plainly_valid_answer_is_what_the_full_check_makes_of_it(question: QuestionDef, value: Any) -> None:
    quick = plainly_valid(question, value)
    problems = _Problems()
    full = _check_answer(question, value, problems)
    if quick is not None:
        assert (quick, problems.errors) == (full, [])


@given(
    single=st.sampled_from([10, 11, 12]),
    chosen=st.lists(st.sampled_from([20, 21, 22]), min_size=1, max_size=2, unique=True),
    point=st.integers(1, 5),
)
def test_well_formed_ballots_take_the_quick_path_and_come_out_normalised(
    single: int, chosen: list[int], point: int
) -> None:
    assert plainly_valid(SINGLE, single) == single
    assert plainly_valid(MULTIPLE, chosen) == sorted(chosen)
    assert plainly_valid(SCALE, point) == point
    raw = {"1": single, "2": chosen, "3": point}
    assert check_ballot(POLL, raw) == {"1": single, "2": sorted(chosen), "3": point}
    # Keys written another way still find their question (the full path).
    assert check_ballot(POLL, {"01": single}) == {"1": single}
