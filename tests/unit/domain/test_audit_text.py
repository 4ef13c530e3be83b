"""Audit entries read in plain words (the audit log page and `polls audit show`)."""

from __future__ import annotations

from polls.domain.audit_text import describe


def test_paper_entries_say_who_entered_how_many_and_what_became_of_them() -> None:
    assert (
        describe("paper.enter", "poll:7", {"ballots": 3, "refused": 0}) == "entered 3 paper ballots in poll 7"
    )
    held = describe("paper.enter", "poll:7", {"ballots": 1, "refused": 2, "batch": 4, "held": True})
    assert held == (
        "entered 1 paper ballot in poll 7, held as batch 4 for a second officer"
        " (2 refused: code already used)"
    )
    confirmed = describe("paper.confirm", "poll:7", {"batch": 4, "ballots": 1, "entered_by": "a@x"})
    assert confirmed == "confirmed paper batch 4 in poll 7: 1 paper ballot entered by a@x now counted"
    rejected = describe(
        "paper.reject", "poll:7", {"batch": 4, "ballots": 2, "entered_by": "a@x", "reason": "line 2"}
    )
    assert rejected.endswith("(2 paper ballots entered by a@x): line 2")


def test_code_entries_name_the_batch_and_others_read_as_action_and_target() -> None:
    assert describe("code.event_issue", "poll:3", {"batch_id": 9, "area_id": None}) == (
        "handed out an event code for poll 3 (batch 9)"
    )
    assert describe("codes.issue", "batch:2", {"batch_id": 2, "area": "E1", "count": 50}) == (
        "issued 50 poll-card codes for area E1 (batch 2)"
    )
    assert describe("poll.close", "poll:3", None) == "poll.close poll:3"
