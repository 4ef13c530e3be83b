"""The jury room reducer, its command rules and its views, without servers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from polls.domain.jury_commands import COMMANDS, decide
from polls.domain.jury_room import (
    CHOICES,
    MODERATOR,
    OBSERVER,
    CommandRefused,
    Event,
    RoomActor,
    RoomState,
    created,
    juror_added,
    juror_removed,
    replay,
)
from polls.domain.jury_room import Role as R
from polls.domain.jury_views import project, view

JURORS = {1: "Ann", 2: "Bo", 3: "Cy", 4: "Di"}


class Room:
    """A log in memory: runs commands through decide and replay like the store does, keeping
    secret votes' running tallies beside the log as the store does."""

    def __init__(self, threshold: int = 75) -> None:
        self.now = 1_000.0
        self.log: list[Event] = []
        self.tallies: dict[int, dict[str, int]] = {}
        self.state = RoomState()
        self._append(created("Buses", "How should buses change?", threshold, JURORS, now=self.now))

    def _append(self, event: Event) -> None:
        stored = Event(event.type, event.data, event.at, seq=len(self.log) + 1)
        self.log.append(stored)
        self.state = replay([stored], self.state)
        rec = event.data.get("recommendation", 0)
        if event.type == "vote_opened" and event.data["ballot"] == "secret":
            self.tallies[rec] = dict.fromkeys(CHOICES, 0)
        elif event.sealed is not None:
            self.tallies[rec][event.sealed] += 1
        elif event.type == "vote_closed":
            self.tallies.pop(rec, None)

    def do(self, actor: RoomActor, command: dict[str, Any], *, after: float = 1.0) -> list[Event]:
        self.now += after
        self.state.sealed_tallies = {rec: dict(counts) for rec, counts in self.tallies.items()}
        try:
            events = decide(self.state, actor, command, now=self.now)
        finally:
            self.state.sealed_tallies = {}
        for event in events:
            self._append(event)
        return events

    def mod(self, kind: str, /, **fields: Any) -> list[Event]:
        return self.do(MODERATOR, {"type": kind, **fields})

    def juror(self, juror: int, kind: str, /, **fields: Any) -> list[Event]:
        return self.do(RoomActor.juror(juror), {"type": kind, **fields})


def started() -> Room:
    room = Room()
    room.mod("start_session")
    return room


def refused(room: Room, actor: RoomActor, command: dict[str, Any]) -> str:
    before = room.state
    with pytest.raises(CommandRefused) as caught:
        room.do(actor, command)
    assert room.state == before
    return caught.value.code


def test_agenda_items_set_the_phase_and_timers_count_down_from_the_same_numbers() -> None:
    room = started()
    [added] = room.mod("add_item", phase="evidence", title="Transport officer", minutes=10)
    item = added.data["id"]
    room.mod("open_item", item=item)
    assert room.state.phase == "evidence" and room.state.current_item == item
    room.mod("start_timer", item=item)
    timer = room.state.item(item).timer
    assert timer.started_at == room.now and timer.left(room.now + 90) == 510
    room.do(MODERATOR, {"type": "pause_timer", "item": item}, after=120)
    assert room.state.item(item).timer.started_at is None
    assert room.state.item(item).timer.remaining == 480
    room.mod("extend_timer", item=item, seconds=300)
    assert room.state.item(item).timer.remaining == 780
    assert room.state.item(item).timer.duration == 900
    shown = view(room.state, R.OBSERVER)["items"][0]
    assert shown["remaining"] == 780 and shown["started_at"] is None
    room.mod("set_phase", phase="deliberation")
    assert room.state.current_item is None


def test_extending_a_running_timer_counts_on_from_now_even_when_it_has_run_over() -> None:
    room = started()
    [added] = room.mod("add_item", phase="welcome", title="Ground rules", minutes=1)
    item = added.data["id"]
    room.mod("start_timer", item=item)
    room.do(MODERATOR, {"type": "extend_timer", "item": item, "seconds": 120}, after=600)  # 9 minutes over
    timer = room.state.item(item).timer
    assert timer.left(room.now) == 120 and timer.left(room.now + 30) == 90
    assert timer.duration == 180
    room.do(MODERATOR, {"type": "extend_timer", "item": item, "seconds": 60}, after=20)  # 100 s left
    assert room.state.item(item).timer.left(room.now) == 160


def test_speaking_queue_keeps_order_and_totals_each_jurors_speaking_time() -> None:
    room = started()
    room.juror(2, "raise_hand")
    room.juror(1, "raise_hand")
    assert room.state.queue == [2, 1]
    room.mod("next_speaker")
    assert room.state.speaker == 2 and room.state.queue == [1]
    room.do(MODERATOR, {"type": "next_speaker"}, after=40)
    assert room.state.spoken == {2: 40} and room.state.speaker == 1
    room.do(MODERATOR, {"type": "finish_speaker"}, after=15)
    assert room.state.spoken == {2: 40, 1: 15} and room.state.speaker is None
    # The moderator brings in someone who has not spoken; the moderator's view lists the quietest first.
    room.mod("next_speaker", juror=4)
    assert room.state.speaker == 4
    jurors = view(room.state, R.MODERATOR)["jurors"]
    assert [j["juror"] for j in jurors][:2] == [3, 4] and jurors[-1] == {
        "juror": 2,
        "name": "Bo",
        "spoken": 40,
    }


def test_hands_go_down_by_the_juror_or_the_moderator() -> None:
    room = started()
    room.juror(3, "raise_hand")
    assert refused(room, RoomActor.juror(3), {"type": "raise_hand"}) == "not_allowed"
    room.juror(3, "lower_hand")
    assert room.state.queue == []
    room.juror(3, "raise_hand")
    room.mod("remove_hand", juror=3)
    assert room.state.queue == []
    assert refused(room, MODERATOR, {"type": "next_speaker"}) == "not_allowed"


def test_evidence_needs_text_or_a_link() -> None:
    room = started()
    room.mod("publish_evidence", kind="document", title="Bus usage 2025", url="https://example.org/usage.pdf")
    room.mod(
        "publish_evidence", kind="witness", title="Driver's statement", text="I drive the 42.", witness="Sam"
    )
    assert [e.kind for e in room.state.evidence] == ["document", "witness"]
    assert (
        refused(room, MODERATOR, {"type": "publish_evidence", "kind": "document", "title": "x"})
        == "malformed"
    )
    assert refused(
        room, MODERATOR, {"type": "publish_evidence", "kind": "photo", "title": "x", "text": "y"}
    ) == ("malformed")


def test_straw_poll_counts_are_hidden_until_closed_from_the_moderator_and_until_shown_from_others() -> None:
    room = started()
    [opened] = room.mod("open_straw_poll", question="Cut route 7?", options=["Yes", "No", "Unsure"])
    poll = opened.data["id"]
    room.juror(1, "straw_vote", poll=poll, option=0)
    room.juror(2, "straw_vote", poll=poll, option=1)
    room.juror(1, "straw_vote", poll=poll, option=2)  # a juror may change their mind while it is open
    observer = view(room.state, R.OBSERVER)["straw_polls"][0]
    assert observer["voters"] == 2 and "counts" not in observer
    moderator = view(room.state, R.MODERATOR)["straw_polls"][0]
    assert moderator["voters"] == 2 and "counts" not in moderator
    assert view(room.state, R.JUROR, 1)["straw_polls"][0]["my_vote"] == 2
    assert refused(room, MODERATOR, {"type": "show_straw_poll", "poll": poll}) == "not_allowed"
    room.mod("close_straw_poll", poll=poll)
    assert (
        refused(room, RoomActor.juror(3), {"type": "straw_vote", "poll": poll, "option": 0}) == "not_allowed"
    )
    assert "counts" not in view(room.state, R.OBSERVER)["straw_polls"][0]
    assert "counts" not in view(room.state, R.JUROR, 1)["straw_polls"][0]
    assert view(room.state, R.MODERATOR)["straw_polls"][0]["counts"] == [0, 1, 1]  # to decide on showing
    room.mod("show_straw_poll", poll=poll)
    assert view(room.state, R.OBSERVER)["straw_polls"][0]["counts"] == [0, 1, 1]


def test_recommendation_is_amended_then_voted_on_against_the_threshold() -> None:
    room = started()
    [drafted] = room.mod("draft_recommendation", text="Keep route 7")
    rec = drafted.data["id"]
    room.mod(
        "amend_recommendation", recommendation=rec, text="Keep route 7 on weekdays", note="Weekends are quiet"
    )
    assert room.state.recommendation(rec).amendments[0].text == "Keep route 7"
    room.mod("open_vote", recommendation=rec)
    assert refused(room, MODERATOR, {"type": "amend_recommendation", "recommendation": rec, "text": "x"}) == (
        "not_allowed"
    )
    for juror, choice in [(1, "yes"), (2, "yes"), (3, "yes"), (4, "no")]:
        room.juror(juror, "vote", recommendation=rec, choice=choice)
    for role, juror in [(R.OBSERVER, None), (R.MODERATOR, None), (R.JUROR, 1)]:
        open_vote = view(room.state, role, juror)["recommendations"][0]
        assert open_vote["voters"] == 4 and "counts" not in open_vote and "passed" not in open_vote
    room.mod("close_vote", recommendation=rec)
    assert view(room.state, R.MODERATOR)["recommendations"][0]["counts"] == {"yes": 3, "no": 1, "abstain": 0}
    shown = view(room.state, R.OBSERVER)["recommendations"][0]
    assert shown["counts"] == {"yes": 3, "no": 1, "abstain": 0} and shown["passed"] is True  # 75% of 4


def test_below_the_threshold_does_not_pass_and_abstentions_do_not_count() -> None:
    room = started()
    [drafted] = room.mod("draft_recommendation", text="Free fares")
    rec = drafted.data["id"]
    room.mod("open_vote", recommendation=rec)
    for juror, choice in [(1, "yes"), (2, "yes"), (3, "no"), (4, "abstain")]:
        room.juror(juror, "vote", recommendation=rec, choice=choice)
    room.mod("close_vote", recommendation=rec)
    assert view(room.state, R.JUROR, 4)["recommendations"][0]["passed"] is False  # 2 of 3 = 67% < 75%
    room.juror(3, "add_minority_report", recommendation=rec, text="Fares fund the service.")
    assert [m.text for m in room.state.minority_reports] == ["Fares fund the service."]


def test_minority_reports_wait_for_the_vote_to_close() -> None:
    room = started()
    [drafted] = room.mod("draft_recommendation", text="Free fares")
    command = {"type": "add_minority_report", "recommendation": drafted.data["id"], "text": "No"}
    assert refused(room, RoomActor.juror(1), command) == "not_allowed"


@pytest.mark.parametrize(
    ("actor", "command", "code"),
    [
        (RoomActor.juror(1), {"type": "next_speaker"}, "unauthorised"),
        (OBSERVER, {"type": "raise_hand"}, "unauthorised"),
        (OBSERVER, {"type": "vote", "recommendation": 1, "choice": "yes"}, "unauthorised"),
        (MODERATOR, {"type": "vote", "recommendation": 1, "choice": "yes"}, "unauthorised"),
        (RoomActor.juror(99), {"type": "raise_hand"}, "unauthorised"),
        (MODERATOR, {"type": "fly"}, "unknown_type"),
        (MODERATOR, {"kind": "add_item"}, "unknown_type"),
        (MODERATOR, {"type": "add_item", "phase": "lunch", "title": "x", "minutes": 5}, "malformed"),
        (
            MODERATOR,
            {"type": "add_item", "phase": "welcome", "title": "x", "minutes": 5, "x": 1},
            "malformed",
        ),
        (MODERATOR, {"type": "open_item", "item": 42}, "not_found"),
        (MODERATOR, {"type": "start_session"}, "not_allowed"),
    ],
)
def test_refused_commands_change_nothing(actor: RoomActor, command: dict[str, Any], code: str) -> None:
    assert refused(started(), actor, command) == code


def test_nothing_but_preparation_before_the_start_and_nothing_after_the_end() -> None:
    room = Room()
    assert refused(room, RoomActor.juror(1), {"type": "raise_hand"}) == "not_allowed"
    room.mod("add_item", phase="welcome", title="Introductions", minutes=5)
    room.mod("start_session")
    room.mod("end_session")
    assert refused(room, MODERATOR, {"type": "add_item", "phase": "welcome", "title": "x", "minutes": 1}) == (
        "not_allowed"
    )


def test_a_late_juror_joins_the_panel_once() -> None:
    room = started()
    events = juror_added(room.state, 9, "Ed", now=room.now)
    assert len(events) == 1
    room._append(events[0])
    assert juror_added(room.state, 9, "Ed", now=room.now) == []
    room.juror(9, "raise_hand")
    assert room.state.queue == [9]


def test_a_removed_juror_leaves_the_panel_queue_chair_and_open_votes_but_not_closed_ones() -> None:
    room = started()
    [drafted] = room.mod("draft_recommendation", text="Keep route 7")
    [second] = room.mod("draft_recommendation", text="Free fares")
    first_rec, second_rec = drafted.data["id"], second.data["id"]
    room.mod("open_vote", recommendation=first_rec, ballot="named")
    room.juror(2, "vote", recommendation=first_rec, choice="yes")
    room.mod("close_vote", recommendation=first_rec)
    room.mod("open_vote", recommendation=second_rec, ballot="named")
    room.juror(2, "vote", recommendation=second_rec, choice="no")
    room.juror(1, "vote", recommendation=second_rec, choice="yes")
    [poll] = room.mod("open_straw_poll", question="Cut?", options=["Yes", "No"])
    room.juror(2, "straw_vote", poll=poll.data["id"], option=0)
    room.juror(2, "raise_hand")
    room.mod("next_speaker")
    room.juror(3, "raise_hand")
    [removed] = juror_removed(room.state, 2, now=room.now + 30)
    room._append(removed)
    state = room.state
    assert 2 not in state.jurors and state.speaker is None and state.queue == [3]
    assert state.spoken[2] == 31  # removed 31 s after being called
    assert state.recommendation(first_rec).ballots == {2: "yes"}  # closed: kept
    assert state.recommendation(second_rec).ballots == {1: "yes"}
    assert state.straw_poll(poll.data["id"]).votes == {}
    assert refused(room, RoomActor.juror(2), {"type": "raise_hand"}) == "unauthorised"
    assert juror_removed(room.state, 2, now=room.now) == []  # already gone
    room.mod("end_session")
    assert juror_removed(room.state, 1, now=room.now) == []  # an ended session's log is final
    assert juror_added(room.state, 9, "Ed", now=room.now) == []


def test_a_secret_vote_logs_who_voted_and_the_tally_never_how() -> None:
    room = started()
    [drafted] = room.mod("draft_recommendation", text="Free fares")
    rec = drafted.data["id"]
    room.mod("open_vote", recommendation=rec)  # secret unless opened as named
    for juror, choice in [(1, "yes"), (2, "no"), (3, "yes")]:
        [cast] = room.juror(juror, "vote", recommendation=rec, choice=choice)
        assert cast.type == "juror_voted" and cast.data == {"recommendation": rec, "juror": juror}
        assert project(cast, R.MODERATOR) == {"type": "juror_voted", "at": cast.at, "recommendation": rec}
    mine = view(room.state, R.JUROR, 1)["recommendations"][0]
    assert mine["voters"] == 3 and mine["voted"] is True and "my_vote" not in mine
    vote = {"type": "vote", "recommendation": rec, "choice": "no"}
    assert refused(room, RoomActor.juror(1), vote) == "not_allowed"  # cannot be changed
    [removed] = juror_removed(room.state, 2, now=room.now)
    room._append(removed)
    [added] = juror_added(room.state, 9, "Ed", now=room.now)
    room._append(added)
    assert refused(room, RoomActor.juror(9), vote) == "not_allowed"  # joined after it opened
    room.mod("close_vote", recommendation=rec)
    assert not any("choice" in e.data for e in room.log)
    # The log alone gives the tally: a removed juror's secret ballot cannot be found, so it counts.
    again = replay(room.log)
    assert again.recommendation(rec).counts() == {"yes": 2, "no": 1, "abstain": 0}
    assert view(again, R.OBSERVER)["recommendations"][0]["passed"] is False  # 2 of 3 < 75%
    assert "named_votes" not in view(again, R.OBSERVER)["recommendations"][0]


def test_a_named_vote_shows_every_name_with_its_vote_once_closed() -> None:
    room = started()
    [drafted] = room.mod("draft_recommendation", text="Free fares")
    rec = drafted.data["id"]
    room.mod("open_vote", recommendation=rec, ballot="named")
    assert view(room.state, R.JUROR, 1)["recommendations"][0]["ballot"] == "named"
    room.juror(1, "vote", recommendation=rec, choice="no")
    room.juror(1, "vote", recommendation=rec, choice="yes")  # changed while open
    room.juror(2, "vote", recommendation=rec, choice="abstain")
    assert "named_votes" not in view(room.state, R.MODERATOR)["recommendations"][0]  # not while open
    room.mod("close_vote", recommendation=rec)
    assert view(room.state, R.OBSERVER)["recommendations"][0]["named_votes"] == [
        {"juror": 1, "name": "Ann", "choice": "yes"},
        {"juror": 2, "name": "Bo", "choice": "abstain"},
    ]


def test_vote_events_name_juror_and_choice_only_to_that_juror() -> None:
    event = Event("vote_cast", {"recommendation": 5, "juror": 2, "choice": "no"}, 1.0, seq=7)
    for role, juror in [(R.OBSERVER, None), (R.MODERATOR, None), (R.JUROR, 3)]:
        assert project(event, role, juror) == {"type": "vote_cast", "at": 1.0, "recommendation": 5}
    assert project(event, R.JUROR, 2)["choice"] == "no"


# --- properties over random command sequences ------------------------------------------------

ACTORS = st.sampled_from([MODERATOR, OBSERVER, *(RoomActor.juror(j) for j in (1, 2, 3, 4, 5))])
SMALL = st.integers(min_value=0, max_value=12)
COMMAND = st.one_of(
    st.just({"type": "start_session"}),
    st.just({"type": "end_session"}),
    st.builds(lambda p: {"type": "set_phase", "phase": p}, st.sampled_from(["welcome", "decision", "nap"])),
    st.builds(lambda m: {"type": "add_item", "phase": "evidence", "title": "Item", "minutes": m}, SMALL),
    *(
        st.builds(lambda i, k=k: {"type": k, "item": i}, SMALL)
        for k in ("open_item", "start_timer", "pause_timer")
    ),
    st.builds(lambda i, s: {"type": "extend_timer", "item": i, "seconds": s}, SMALL, SMALL),
    st.just({"type": "raise_hand"}),
    st.just({"type": "lower_hand"}),
    st.builds(lambda j: {"type": "next_speaker", "juror": j}, st.none() | SMALL),
    st.just({"type": "next_speaker"}),
    st.just({"type": "finish_speaker"}),
    st.builds(
        lambda t: {"type": "publish_evidence", "kind": "document", "title": "Doc", "text": t},
        st.text(max_size=3),
    ),
    st.just({"type": "open_straw_poll", "question": "Q?", "options": ["a", "b", "c"]}),
    st.builds(lambda p, o: {"type": "straw_vote", "poll": p, "option": o}, SMALL, SMALL),
    *(
        st.builds(lambda p, k=k: {"type": k, "poll": p}, SMALL)
        for k in ("close_straw_poll", "show_straw_poll")
    ),
    st.just({"type": "draft_recommendation", "text": "Do it"}),
    st.builds(lambda r: {"type": "amend_recommendation", "recommendation": r, "text": "Do it now"}, SMALL),
    *(st.builds(lambda r, k=k: {"type": k, "recommendation": r}, SMALL) for k in ("open_vote", "close_vote")),
    st.builds(
        lambda r, c: {"type": "vote", "recommendation": r, "choice": c},
        SMALL,
        st.sampled_from(["yes", "no", "abstain", "maybe"]),
    ),
    st.builds(lambda r: {"type": "add_minority_report", "recommendation": r, "text": "We differ"}, SMALL),
    st.just({"type": "vote", "recommendation": "one"}),
    st.just({"type": "teleport"}),
)
STEPS = st.lists(st.tuples(ACTORS, COMMAND, st.floats(min_value=0, max_value=100)), max_size=60)


Refusal = tuple[RoomActor, dict[str, Any], str]


def run(steps: list[tuple[RoomActor, dict[str, Any], float]]) -> tuple[Room, list[Refusal]]:
    """Run every step in a started session; a refused one must leave the state as it was."""
    room = started()
    refusals = []
    for actor, command, after in steps:
        before = room.state
        try:
            room.do(actor, command, after=after)
        except CommandRefused as exc:
            assert room.state == before
            refusals.append((actor, command, exc.code))
    return room, refusals


@settings(max_examples=150, deadline=None)
@given(STEPS, st.data())
def test_replaying_any_prefix_then_the_rest_equals_the_full_replay(steps: Any, data: st.DataObject) -> None:
    room, _ = run(steps)
    cut = data.draw(st.integers(min_value=0, max_value=len(room.log)))
    assert replay(room.log[cut:], replay(room.log[:cut])) == replay(room.log) == room.state
    assert room.state.seq == len(room.log)
    note(f"{len(room.log)} events")


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_counts_equal_the_number_of_distinct_voters(steps: Any) -> None:
    room, _ = run(steps)
    shown = view(room.state, R.OBSERVER)
    for poll, seen in zip(room.state.straw_polls, shown["straw_polls"], strict=True):
        voters = {
            e.data["juror"] for e in room.log if e.type == "straw_vote_cast" and e.data["poll"] == poll.id
        }
        assert sum(poll.counts()) == len(voters) == seen["voters"]
    for rec, seen in zip(room.state.recommendations, shown["recommendations"], strict=True):
        voters = {
            e.data["juror"] for e in room.log if e.type == "vote_cast" and e.data["recommendation"] == rec.id
        }
        assert sum(rec.counts().values()) == len(voters) == seen["voters"]


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_no_command_by_an_unauthorised_actor_changes_anything(steps: Any) -> None:
    room, refusals = run(steps)  # run() checks every refusal left the state as it was
    for actor, command, code in refusals:
        known = COMMANDS.get(command["type"])
        if known is not None and actor.role is not known[0] and actor.role is not R.MODERATOR:
            assert code == "unauthorised"
    by_jurors = [e for e in room.log if e.type in ("hand_raised", "vote_cast", "straw_vote_cast")]
    assert all(e.data["juror"] in JURORS for e in by_jurors)  # juror 5 is not on the panel


@settings(max_examples=100, deadline=None)
@given(STEPS)
def test_nobody_sees_who_voted_how_nor_the_counts_of_an_open_vote(steps: Any) -> None:
    room, _ = run(steps)
    for event in room.log:
        seen = project(event, R.OBSERVER)
        if event.type in ("vote_cast", "straw_vote_cast"):
            assert "juror" not in seen and "choice" not in seen and "option" not in seen
    shown = view(room.state, R.OBSERVER)
    for poll in shown["straw_polls"]:
        assert "my_vote" not in poll
    for rec in shown["recommendations"]:
        assert "my_vote" not in rec
    # Nobody, the moderator included, sees counts move while a vote is open.
    for role, juror in [(R.OBSERVER, None), (R.MODERATOR, None), (R.JUROR, 1)]:
        seen_by = view(room.state, role, juror)
        for rec in seen_by["recommendations"]:
            assert ("counts" in rec) == (rec["status"] == "closed")
        for poll in seen_by["straw_polls"]:
            visible = poll["shown"] or (role is R.MODERATOR and poll["status"] == "closed")
            assert ("counts" in poll) == visible


def test_report_shows_public_facts_only_and_its_csv_is_spreadsheet_safe() -> None:
    from polls.domain.jury_report import report, report_csv

    room = started()
    [drafted] = room.mod("draft_recommendation", text='=HYPERLINK("x")')
    rec = drafted.data["id"]
    room.mod("open_vote", recommendation=rec)
    room.juror(1, "vote", recommendation=rec, choice="yes")
    room.mod("draft_recommendation", text="Second")
    open_poll = room.mod("open_straw_poll", question="Hidden?", options=["a", "b"])[0].data["id"]
    room.juror(2, "straw_vote", poll=open_poll, option=0)
    profile = [
        {"category": "age", "feature": "16-29", "min": 1, "max": 2, "pool": 10, "pool_share": 0.25}
        | {"panel": 3, "panel_share": 0.75, "within_quota": False}
    ]
    data = report(room.state, jury_title="Buses jury", session_title="Day 1", profile=profile)
    assert data["recommendations"][0]["counts"] is None  # the vote is still open
    assert data["straw_polls"] == []  # results never shown
    room.mod("close_vote", recommendation=rec)
    room.juror(2, "add_minority_report", recommendation=rec, text="We differ")
    data = report(room.state, jury_title="Buses jury", session_title="Day 1", profile=profile)
    first = data["recommendations"][0]
    assert first["counts"] == {"yes": 1, "no": 0, "abstain": 0} and first["passed"] is True
    assert first["minority_reports"] == ["We differ"]
    lines = report_csv(data).splitlines()
    assert lines[0] == "section,item,text,yes,no,abstain,outcome"
    assert 'recommendation,1,"\'=HYPERLINK(""x"")",1,0,0,passed (threshold 75%)' in lines
    assert "recommendation,2,Second,,,,not voted on" in lines
    assert any(line.startswith("profile,age: 16-29,") and line.endswith("outside quota") for line in lines)
    assert "minority_report,1,We differ,,,," in lines


def test_deeply_nested_json_is_refused_as_malformed_not_a_crash() -> None:
    from polls.domain import jury_protocol

    for depth in (900, 5000):
        raw = '{"v":2,"type":"ping","x":' + "[" * depth + "]" * depth + "}"
        try:
            jury_protocol.parse(raw)
        except CommandRefused as exc:
            assert exc.code in {"malformed", "too_large"}
