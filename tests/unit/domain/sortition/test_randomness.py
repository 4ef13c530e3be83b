"""The draw's public randomness: fixed at publication, checked against its commitments at the draw."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polls.domain.sortition import commitment, draw, fairest_lottery, group_pool, make_lottery, verify
from polls.domain.sortition.randomness import (
    PublishSpec,
    fix_source,
    hash_reveal,
    public_value,
    record_problems,
    reveal_problems,
)
from polls.domain.validation import parse
from polls.errors import ValidationFailed
from tests.unit.domain.sortition.test_draw import SEED, make_pool

reveal_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80).filter(
    lambda t: t.strip() != ""
)


def dice(reveals: list[str]) -> dict[str, Any]:
    people = [{"name": f"Person {n}", "sha256": hash_reveal(r)} for n, r in enumerate(reveals)]
    return fix_source(
        parse(PublishSpec, {"randomness": {"kind": "dice", "people": people}}), datetime.now(UTC)
    )


@given(st.lists(reveal_text, min_size=2, max_size=5, unique_by=lambda t: t.strip()))
def test_the_committed_reveals_are_accepted_in_order(reveals: list[str]) -> None:
    source = dice(reveals)
    assert reveal_problems(source, reveals) == []
    assert public_value(source, reveals) == "\n".join(r.strip() for r in reveals)


@given(
    st.lists(reveal_text, min_size=2, max_size=5, unique_by=lambda t: t.strip()),
    st.integers(min_value=0, max_value=4),
    reveal_text,
)
def test_any_other_reveal_is_refused_and_names_its_person(reveals: list[str], which: int, other: str) -> None:
    which %= len(reveals)
    if other.strip() == reveals[which].strip():
        return
    changed = [other if n == which else r for n, r in enumerate(reveals)]
    problems = reveal_problems(dice(reveals), changed)
    assert [field for field, _ in problems] == [f"reveals.{which}"]
    with pytest.raises(ValidationFailed) as refused:
        public_value(dice(reveals), changed)
    assert refused.value.code == "randomness_mismatch"


def test_reveals_out_of_order_or_missing_are_refused() -> None:
    reveals = ["4 2 6 1 salt-one", "3 3 1 5 salt-two"]
    source = dice(reveals)
    assert {f for f, _ in reveal_problems(source, reveals[::-1])} == {"reveals.0", "reveals.1"}
    assert reveal_problems(source, reveals[:1]) == [("reveals", "Enter what each of the 2 people reveals")]


def test_a_dice_source_needs_two_distinct_people_and_commitments() -> None:
    same = hash_reveal("1 2 3")
    for people in (
        [{"name": "A", "sha256": same}],
        [{"name": "A", "sha256": same}, {"name": "B", "sha256": same}],
        [{"name": "A", "sha256": same}, {"name": "a", "sha256": hash_reveal("x")}],
        [{"name": "A", "sha256": "not a hash"}, {"name": "B", "sha256": same}],
    ):
        with pytest.raises(ValidationFailed):
            parse(PublishSpec, {"randomness": {"kind": "dice", "people": people}})


def test_a_lottery_source_is_a_later_draw_and_its_numbers_count_in_any_order() -> None:
    spec = parse(PublishSpec, {"randomness": {"kind": "lottery", "name": "Lotto", "date": "2030-01-05"}})
    with pytest.raises(ValidationFailed) as past:
        fix_source(spec, datetime(2030, 1, 5, 9, tzinfo=UTC))
    assert past.value.code == "randomness_not_future"
    source = fix_source(spec, datetime(2030, 1, 1, tzinfo=UTC))
    assert public_value(source, ["44, 3, 17 22-9 31"]) == public_value(source, ["3 9 17 22 31 44"])
    assert public_value(source, ["3 9 17 22 31 44"]) == "lottery Lotto 2030-01-05: 3 9 17 22 31 44"
    assert reveal_problems(source, ["3 9 17"], today=date(2030, 1, 4))  # not drawn yet
    assert reveal_problems(source, ["no numbers"])


def test_verify_checks_the_record_used_the_published_source() -> None:
    groups = group_pool(make_pool(), households=True)
    lottery = make_lottery(fairest_lottery(groups, 4), households_apart=True, seed_sha256=commitment(SEED))
    reveals = ["6 1 2 secret-a", "5 5 4 secret-b"]
    source = dice(reveals)
    record = draw(lottery, SEED, reserves=2, public_randomness=public_value(source, reveals))
    record = dataclasses.replace(record, randomness={"source": source, "reveals": reveals})
    assert verify(lottery, SEED, record, source=source) == []
    other = dice(["1 1 1 other", "2 2 2 other"])
    assert verify(lottery, SEED, record, source=other) == [
        "the draw record's randomness source is not the one published with the lottery"
    ]
    forged = dataclasses.replace(record, randomness={"source": source, "reveals": ["6 6 6 x", reveals[1]]})
    assert record_problems(source, forged)
    assert record_problems(source, dataclasses.replace(record, randomness=None))
