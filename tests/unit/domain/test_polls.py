"""Poll specs and the poll lifecycle: which moves are allowed, when, and what the scheduler does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polls.domain.polls import (
    Action,
    Assurance,
    NewPollSpec,
    PollFacts,
    PollSpec,
    PollStatus,
    ResultsVisibility,
    allowed_actions,
    due_action,
    is_editable,
    next_status,
)
from polls.domain.validation import parse
from polls.errors import Conflict, FieldError, TransitionNotAllowed, ValidationFailed

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)

ALLOWED = {
    (PollStatus.DRAFT, Action.SCHEDULE): PollStatus.SCHEDULED,
    (PollStatus.DRAFT, Action.OPEN): PollStatus.OPEN,
    (PollStatus.SCHEDULED, Action.UNSCHEDULE): PollStatus.DRAFT,
    (PollStatus.SCHEDULED, Action.OPEN): PollStatus.OPEN,
    (PollStatus.OPEN, Action.CLOSE): PollStatus.CLOSED,
    (PollStatus.CLOSED, Action.REVIEW): PollStatus.UNDER_REVIEW,
    (PollStatus.UNDER_REVIEW, Action.PUBLISH): PollStatus.PUBLISHED,
}
REFUSED = [(s, a) for s in PollStatus for a in Action if (s, a) not in ALLOWED]
FORWARD = [
    PollStatus.DRAFT,
    PollStatus.SCHEDULED,
    PollStatus.OPEN,
    PollStatus.CLOSED,
    PollStatus.UNDER_REVIEW,
    PollStatus.PUBLISHED,
]
_LEFT_OUT: Any = object()


def facts(
    status: PollStatus,
    *,
    questions: int = 2,
    opens_at: datetime | None = _LEFT_OUT,
    closes_at: datetime | None = _LEFT_OUT,
) -> PollFacts:
    """A poll that may make any move its status allows, unless a test says otherwise."""
    return PollFacts(
        status=status,
        question_count=questions,
        opens_at=NOW + HOUR if opens_at is _LEFT_OUT else opens_at,
        closes_at=NOW + WEEK if closes_at is _LEFT_OUT else closes_at,
    )


def refused_code(poll: PollFacts, action: Action, now: datetime = NOW) -> str:
    with pytest.raises(TransitionNotAllowed) as caught:
        next_status(poll, action, now)
    return caught.value.code


def poll_spec(**body: Any) -> PollSpec:
    return parse(PollSpec, {"title": "Spending the ward budget", **body})


def spec_refusal(**body: Any) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as caught:
        poll_spec(**body)
    return caught.value.errors


# PollSpec


def test_poll_spec_defaults_to_results_after_close_with_poll_cards_for_the_whole_pilot() -> None:
    spec = poll_spec()
    assert spec.results_visibility is ResultsVisibility.AFTER_CLOSE
    assert spec.assurance is Assurance.POLL_CARD
    assert (spec.area_ids, spec.opens_at, spec.closes_at, spec.description) == ([], None, None, "")


def test_poll_closing_after_it_opens_is_accepted() -> None:
    spec = poll_spec(opens_at="2026-03-02T09:00:00Z", closes_at="2026-03-09T17:00:00Z")
    assert spec.closes_at is not None and spec.opens_at is not None
    assert spec.closes_at - spec.opens_at == timedelta(days=7, hours=8)


@pytest.mark.parametrize("closes_at", ["2026-03-02T09:00:00Z", "2026-03-01T09:00:00Z"])
def test_poll_cannot_close_at_or_before_its_opening(closes_at: str) -> None:
    assert spec_refusal(opens_at="2026-03-02T09:00:00Z", closes_at=closes_at) == [
        FieldError("__root__", "The closing time must be after the opening time")
    ]


def test_poll_times_in_different_zones_are_compared_as_instants() -> None:
    # 10:30+01:00 is 09:30 UTC, so this poll closes half an hour after it opens.
    spec = poll_spec(opens_at="2026-03-02T09:00:00+00:00", closes_at="2026-03-02T10:30:00+01:00")
    assert spec.closes_at is not None and spec.opens_at is not None
    assert spec.closes_at - spec.opens_at == timedelta(minutes=30)
    assert spec_refusal(opens_at="2026-03-02T09:00:00+00:00", closes_at="2026-03-02T09:30:00+01:00") == [
        FieldError("__root__", "The closing time must be after the opening time")
    ]


@pytest.mark.parametrize("name", ["opens_at", "closes_at"])
def test_poll_with_only_one_time_is_accepted(name: str) -> None:
    assert getattr(poll_spec(**{name: "2026-03-02T09:00:00Z"}), name) == datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_poll_time_without_a_timezone_is_refused() -> None:
    assert [e.field for e in spec_refusal(opens_at="2026-03-02T09:00:00")] == ["opens_at"]


def test_poll_title_is_trimmed_and_must_have_three_characters() -> None:
    assert poll_spec(title="  Parks  ").title == "Parks"
    assert spec_refusal(title=" P ") == [FieldError("title", "Enter at least 3 characters")]


def test_unknown_visibility_is_refused() -> None:
    assert [e.field for e in spec_refusal(results_visibility="never")] == ["results_visibility"]


def test_new_poll_reports_question_errors_with_their_position() -> None:
    body = {
        "title": "Spending the ward budget",
        "questions": [{"kind": "comment", "title": "Anything else?"}, {"kind": "single", "title": "Hi"}],
    }
    with pytest.raises(ValidationFailed) as caught:
        parse(NewPollSpec, body)
    fields = {e.field for e in caught.value.errors}
    assert "questions.1.title" in fields
    assert not any(f.startswith("questions.0") for f in fields)


def test_new_poll_may_have_a_hundred_questions_but_not_more() -> None:
    one = {"kind": "comment", "title": "Anything else?"}
    assert len(parse(NewPollSpec, {"title": "Big survey", "questions": [one] * 100}).questions) == 100
    with pytest.raises(ValidationFailed) as caught:
        parse(NewPollSpec, {"title": "Big survey", "questions": [one] * 101})
    assert [e.field for e in caught.value.errors] == ["questions"]


# next_status: which moves exist


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_allowed_move_reaches_its_target(status: PollStatus, action: Action) -> None:
    assert next_status(facts(status), action, NOW) is ALLOWED[status, action]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_move_not_allowed_from_a_status_is_refused_with_its_code(status: PollStatus, action: Action) -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        next_status(facts(status), action, NOW)
    assert caught.value.code == f"cannot_{action.value}_{status.value}"
    assert isinstance(caught.value, Conflict)
    assert caught.value.status == 409


@pytest.mark.parametrize("status", list(PollStatus))
def test_allowed_actions_lists_exactly_the_moves_from_a_status(status: PollStatus) -> None:
    expected = {a for (s, a) in ALLOWED if s is status}
    assert set(allowed_actions(facts(status))) == expected


def test_published_poll_has_no_moves_left() -> None:
    assert allowed_actions(facts(PollStatus.PUBLISHED)) == []


@pytest.mark.parametrize(
    ("action", "participle"),
    [
        (Action.SCHEDULE, "scheduled"),
        (Action.CLOSE, "closed"),
        (Action.UNSCHEDULE, "moved back to draft"),
        pytest.param(
            Action.OPEN,
            "opened",
        ),
        pytest.param(
            Action.REVIEW,
            "reviewed",
        ),
        pytest.param(
            Action.PUBLISH,
            "published",
        ),
    ],
)
def test_refusal_message_says_what_cannot_be_done_in_plain_english(action: Action, participle: str) -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        next_status(facts(PollStatus.PUBLISHED), action, NOW)
    assert caught.value.message.endswith(f" poll cannot be {participle}")


def test_refusal_message_uses_an_before_a_vowel() -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        next_status(facts(PollStatus.OPEN), Action.SCHEDULE, NOW)
    assert caught.value.message.startswith("An open poll ")


# next_status: what a poll needs before it can be scheduled or opened


@pytest.mark.parametrize("action", [Action.SCHEDULE, Action.OPEN])
def test_poll_without_questions_cannot_be_scheduled_or_opened(action: Action) -> None:
    assert refused_code(facts(PollStatus.DRAFT, questions=0), action) == "poll_has_no_questions"


@pytest.mark.parametrize("closes_at", [NOW, NOW - HOUR])
@pytest.mark.parametrize("action", [Action.SCHEDULE, Action.OPEN])
def test_poll_whose_closing_time_has_come_cannot_be_scheduled_or_opened(
    action: Action, closes_at: datetime
) -> None:
    poll = facts(PollStatus.DRAFT, opens_at=NOW - WEEK, closes_at=closes_at)
    assert refused_code(poll, action) == "closing_time_passed"


def test_scheduled_poll_whose_closing_time_passed_cannot_be_opened() -> None:
    poll = facts(PollStatus.SCHEDULED, opens_at=NOW - WEEK, closes_at=NOW - HOUR)
    assert refused_code(poll, Action.OPEN) == "closing_time_passed"


def test_closing_time_stored_without_a_zone_is_read_as_utc() -> None:
    naive_past = datetime(2026, 3, 1, 11, 59)
    naive_future = datetime(2026, 3, 1, 12, 1)
    assert refused_code(facts(PollStatus.DRAFT, closes_at=naive_past), Action.OPEN) == "closing_time_passed"
    assert next_status(facts(PollStatus.DRAFT, closes_at=naive_future), Action.OPEN, NOW) is PollStatus.OPEN


def test_missing_questions_are_reported_before_a_passed_closing_time() -> None:
    poll = facts(PollStatus.DRAFT, questions=0, closes_at=NOW - HOUR)
    assert refused_code(poll, Action.OPEN) == "poll_has_no_questions"


@pytest.mark.parametrize(("opens_at", "closes_at"), [(None, NOW + WEEK), (NOW + HOUR, None), (None, None)])
def test_scheduling_needs_both_times(opens_at: datetime | None, closes_at: datetime | None) -> None:
    poll = facts(PollStatus.DRAFT, opens_at=opens_at, closes_at=closes_at)
    assert refused_code(poll, Action.SCHEDULE) == "poll_times_missing"


def test_poll_without_times_can_be_opened_now() -> None:
    poll = facts(PollStatus.DRAFT, opens_at=None, closes_at=None)
    assert next_status(poll, Action.OPEN, NOW) is PollStatus.OPEN


def test_poll_whose_opening_time_has_passed_can_still_be_scheduled() -> None:
    poll = facts(PollStatus.DRAFT, opens_at=NOW - HOUR, closes_at=NOW + WEEK)
    assert next_status(poll, Action.SCHEDULE, NOW) is PollStatus.SCHEDULED


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (PollStatus.SCHEDULED, Action.UNSCHEDULE),
        (PollStatus.OPEN, Action.CLOSE),
        (PollStatus.CLOSED, Action.REVIEW),
        (PollStatus.UNDER_REVIEW, Action.PUBLISH),
    ],
)
def test_later_moves_do_not_depend_on_questions_or_times(status: PollStatus, action: Action) -> None:
    poll = facts(status, questions=0, opens_at=None, closes_at=NOW - WEEK)
    assert next_status(poll, action, NOW) is ALLOWED[status, action]


# due_action: what the scheduler does


@pytest.mark.parametrize("opens_at", [NOW, NOW - HOUR])
def test_scheduled_poll_is_opened_once_its_opening_time_comes(opens_at: datetime) -> None:
    assert due_action(facts(PollStatus.SCHEDULED, opens_at=opens_at), NOW) is Action.OPEN


def test_scheduled_poll_is_left_alone_before_its_opening_time() -> None:
    assert due_action(facts(PollStatus.SCHEDULED, opens_at=NOW + timedelta(seconds=1)), NOW) is None


def test_scheduled_poll_that_missed_its_whole_window_is_left_to_officers() -> None:
    poll = facts(PollStatus.SCHEDULED, opens_at=NOW - WEEK, closes_at=NOW - HOUR)
    assert due_action(poll, NOW) is None


@pytest.mark.parametrize("closes_at", [NOW, NOW - HOUR])
def test_open_poll_is_closed_once_its_closing_time_comes(closes_at: datetime) -> None:
    assert due_action(facts(PollStatus.OPEN, opens_at=NOW - WEEK, closes_at=closes_at), NOW) is Action.CLOSE


def test_open_poll_is_left_open_before_its_closing_time() -> None:
    assert due_action(facts(PollStatus.OPEN, opens_at=NOW - WEEK), NOW) is None


def test_open_poll_without_a_closing_time_stays_open() -> None:
    assert due_action(facts(PollStatus.OPEN, opens_at=NOW - WEEK, closes_at=None), NOW) is None


@pytest.mark.parametrize(
    "status", [PollStatus.DRAFT, PollStatus.CLOSED, PollStatus.UNDER_REVIEW, PollStatus.PUBLISHED]
)
def test_scheduler_never_moves_polls_in_other_statuses(status: PollStatus) -> None:
    assert due_action(facts(status, opens_at=NOW - WEEK, closes_at=NOW - HOUR), NOW) is None
    assert due_action(facts(status, opens_at=NOW - HOUR, closes_at=NOW + WEEK), NOW) is None


def test_scheduler_reads_times_stored_without_a_zone_as_utc() -> None:
    poll = facts(
        PollStatus.SCHEDULED, opens_at=datetime(2026, 3, 1, 11, 0), closes_at=datetime(2026, 3, 8, 12)
    )
    assert due_action(poll, NOW) is Action.OPEN
    open_poll = facts(PollStatus.OPEN, opens_at=None, closes_at=datetime(2026, 3, 1, 12, 30))
    assert due_action(open_poll, NOW) is None


def test_scheduler_action_is_one_the_lifecycle_allows() -> None:
    for poll in [
        facts(PollStatus.SCHEDULED, opens_at=NOW - HOUR),
        facts(PollStatus.OPEN, opens_at=NOW - WEEK, closes_at=NOW - HOUR),
    ]:
        action = due_action(poll, NOW)
        assert action is not None
        assert action in allowed_actions(poll)


# is_editable


@pytest.mark.parametrize("status", list(PollStatus))
def test_only_a_draft_poll_is_editable(status: PollStatus) -> None:
    assert is_editable(status) is (status is PollStatus.DRAFT)


# The lifecycle as a whole

moments = st.none() | st.integers(min_value=-200, max_value=200).map(lambda h: NOW + h * HOUR)


@settings(max_examples=200, deadline=None)
@given(
    actions=st.lists(st.sampled_from(list(Action)), max_size=40),
    questions=st.integers(min_value=0, max_value=3),
    opens_at=moments,
    closes_at=moments,
)
def test_random_actions_only_move_a_poll_forward_except_back_from_scheduled_to_draft(
    actions: list[Action], questions: int, opens_at: datetime | None, closes_at: datetime | None
) -> None:
    status = PollStatus.DRAFT
    has_opened = False
    for action in actions:
        poll = facts(status, questions=questions, opens_at=opens_at, closes_at=closes_at)
        try:
            target = next_status(poll, action, NOW)
        except TransitionNotAllowed:
            continue
        if (status, target) != (PollStatus.SCHEDULED, PollStatus.DRAFT):
            assert FORWARD.index(target) > FORWARD.index(status), (status, action, target)
        status = target
        has_opened = has_opened or status is PollStatus.OPEN
        if has_opened:
            assert status not in (PollStatus.DRAFT, PollStatus.SCHEDULED)
