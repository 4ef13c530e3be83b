"""Receipts a person can read out: 100 bits in five groups of four, found however they are typed."""

from __future__ import annotations

import re

from polls.domain.ballots import new_tracker
from polls.domain.trackers import BITS, normalise_tracker, tracker_from_digest
from tests.voting_setup import TRACKER


def test_a_tracker_is_five_groups_of_four_carrying_at_least_80_bits() -> None:
    tracker = new_tracker(1, {"1": 0})
    assert re.fullmatch(TRACKER, tracker) and BITS >= 80
    assert tracker_from_digest(bytes(32)) == "0000-0000-0000-0000-0000"
    assert tracker_from_digest(b"\xff" * 32) == "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"


def test_the_same_ballot_gets_a_different_tracker_each_time() -> None:
    made = {new_tracker(1, {"1": 0}) for _ in range(1000)}
    assert len(made) == 1000  # the salt: a tracker says nothing of the answers


def test_a_receipt_is_found_however_it_is_typed() -> None:
    listed = "7KQ4-M2XD-9HBT-R3PZ-0W5N"
    for typed in (listed, " 7kq4m2xd9hbtr3pz0w5n ", "7KQ4 M2XD 9HBT R3PZ OW5N", "7kq4-m2xd-9hbt-r3pz-ow5n"):
        assert normalise_tracker(typed) == listed
    old = "AB" * 32
    assert normalise_tracker(old) == old.lower()  # receipts of the old form still look up
    assert normalise_tracker("not a receipt") == "not a receipt"
