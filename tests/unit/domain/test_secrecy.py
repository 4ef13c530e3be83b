"""Live figures in steps of k: the rule, the rebuild's hold-back, and the poll setting."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polls.domain.polls import NewPollSpec, PollSpec
from polls.domain.secrecy import HoldBack, held_back, steps_due
from polls.domain.validation import parse
from polls.errors import ErrorCode, ValidationFailed


@given(k=st.integers(5, 50), batches=st.lists(st.integers(1, 30), max_size=60))
def test_every_published_change_covers_at_least_k_ballots_until_the_close(k: int, batches: list[int]) -> None:
    exact = published = 0
    for batch in batches:
        exact += batch
        if steps_due(exact, published, k):
            assert exact - published >= k
            published = exact
        assert exact - published < k  # never more than k-1 waiting
    if steps_due(exact, published, k, final=True):
        published = exact
    assert published == exact  # closing publishes the remainder


def _split(n: int, k: int, seed: int, *, final: bool = False) -> tuple[list[int], list[int]]:
    choice = HoldBack[int](k, random.Random(seed))
    for item in range(n):
        choice.offer(item)
    held = choice.held(final=final)
    return [i for i in range(n) if i not in held], held


@given(k=st.integers(5, 50), n=st.integers(0, 500), seed=st.integers())
def test_a_rebuild_holds_back_a_random_remainder_smaller_than_a_step(k: int, n: int, seed: int) -> None:
    shown, held = _split(n, k, seed)
    assert len(shown) % k == 0 and len(held) == held_back(n, k) < k
    assert sorted(shown + held) == list(range(n)) and len(set(held)) == len(held)
    shown, held = _split(n, k, seed, final=True)
    assert len(shown) == n and not held


def test_the_held_back_ballots_are_not_the_latest() -> None:
    held = {frozenset(_split(13, 5, seed)[1]) for seed in range(20)}
    assert len(held) > 5  # a random three of the thirteen each time, not the last three
    early = sum(1 for seed in range(300) for i in _split(1003, 5, seed)[1] if i < 500)
    assert 300 < early < 600  # of 900 held back over the runs, about half are from the first half


def test_a_poll_steps_every_ten_votes_unless_the_officer_says_otherwise() -> None:
    assert parse(PollSpec, {"title": "Bins"}).secrecy_k == 10
    assert parse(NewPollSpec, {"title": "Bins", "secrecy_k": "25"}).secrecy_k == 25


@pytest.mark.parametrize("value", [4, 0, -10, 7.5, "ten", "", None, True, 1001])
def test_a_step_below_five_or_not_a_whole_number_is_refused_with_its_own_code(value: object) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(PollSpec, {"title": "Bins", "secrecy_k": value})
    assert refused.value.code is ErrorCode.SECRECY_K_INVALID
    assert [e.field for e in refused.value.errors] == ["secrecy_k"]
