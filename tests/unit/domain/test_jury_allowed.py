"""Which jury room commands are allowed now (``allowed``) agrees with ``decide``, and the room page
offers exactly those, without servers."""

from __future__ import annotations

import re
from contextlib import suppress
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from polls.domain.jury_allowed import Offer, allowed
from polls.domain.jury_commands import COMMANDS, decide
from polls.domain.jury_room import (
    CHOICES,
    MAX_ITEMS,
    MODERATOR,
    OBSERVER,
    PHASES,
    CommandRefused,
    Event,
    RoomActor,
    RoomState,
    created,
    juror_added,
    juror_removed,
    replay,
)
from polls.domain.jury_views import view
from polls.http.kit.render import TEMPLATES

JURORS = {1: "Ann", 2: "Bo", 3: "Cy", 4: "Di"}
ACTORS = [MODERATOR, OBSERVER, *(RoomActor.juror(j) for j in (1, 2, 3, 4, 5))]  # 5: not on the panel
# command type -> the field naming what it is about, as the page sends it
ABOUT = {
    **dict.fromkeys(("open_item", "start_timer", "pause_timer", "extend_timer"), "item"),
    **dict.fromkeys(("next_speaker", "remove_hand"), "juror"),
    **dict.fromkeys(("straw_vote", "close_straw_poll", "show_straw_poll"), "poll"),
    **dict.fromkeys(
        ("amend_recommendation", "open_vote", "vote", "close_vote", "add_minority_report"), "recommendation"
    ),
    "set_phase": "phase",
}


class Room:
    """A session's log in memory, folded as the store folds it."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.state = RoomState()
        self.add([created("Buses", "How should buses change?", 75, JURORS, now=self.now)])

    def add(self, events: list[Event]) -> None:
        for e in events:
            self.state = replay([Event(e.type, e.data, e.at, self.state.seq + 1)], self.state)

    def do(self, actor: RoomActor, command: dict[str, Any]) -> None:
        self.add(decide(self.state, actor, command, now=self.now))


def page_commands(s: RoomState, offer: Offer) -> list[dict[str, Any]]:
    """The commands a page sends for ``offer``, with what people type into its forms."""
    kind, target = (offer, None) if isinstance(offer, str) else offer
    about = {} if target is None else {ABOUT[kind]: target}
    if kind == "add_item":
        variants = [{"phase": p, "title": "Ground rules", "minutes": 10} for p in PHASES]
    elif kind == "publish_evidence":
        variants = [
            {"kind": "document", "title": "Usage", "url": "https://example.org/u.pdf"},
            {"kind": "witness", "title": "Driver", "text": "Busy at 8.", "witness": "Sam"},
        ]
    elif kind == "open_straw_poll":
        variants = [{"question": "Cut route 7?", "options": ["Agree", "Disagree", "Not sure"]}]
    elif kind == "draft_recommendation":
        variants = [{"text": "Keep route 7"}]
    elif kind == "add_minority_report":
        variants = [{"text": "Weekends matter too."}]
    elif kind == "extend_timer":
        variants = [{"seconds": 300}]
    elif kind == "straw_vote":
        options = next((len(p.options) for p in s.straw_polls if p.id == target), 2)
        variants = [{"option": i} for i in range(options)]
    elif kind == "vote":
        variants = [{"choice": c} for c in CHOICES]
    elif kind == "amend_recommendation":
        text = next((r.text for r in s.recommendations if r.id == target), "")
        variants = [{"text": text + " on weekdays", "note": "Quiet"}]
    else:
        variants = [{}]
    return [{"type": kind, **about, **fields} for fields in variants]


def every_offer(s: RoomState) -> list[Offer]:
    """Every command about anything in the room, and about things that are not in it."""
    missing = s.next_id
    targets: dict[str, list[int | str]] = {
        "phase": list(PHASES),
        "item": [i.id for i in s.items] + [missing],
        "juror": [*s.jurors, 5],
        "poll": [p.id for p in s.straw_polls] + [missing],
        "recommendation": [r.id for r in s.recommendations] + [missing],
    }
    offers: list[Offer] = []
    for kind in COMMANDS:
        if kind not in ABOUT or kind == "next_speaker":  # next_speaker alone calls the first hand up
            offers.append(kind)
        if kind in ABOUT:
            offers += [(kind, t) for t in targets[ABOUT[kind]]]
    return offers


def offer_of_kind(offer: Offer) -> str:
    return offer if isinstance(offer, str) else offer[0]


def accepted(room: Room, actor: RoomActor, command: dict[str, Any]) -> bool:
    try:
        decide(room.state, actor, command, now=room.now)
    except CommandRefused:
        return False
    return True


@st.composite
def rooms(draw: st.DrawFn) -> Room:
    """A session some way in: commands the page offered, time passing, jurors leaving and joining;
    started after a few steps or not at all, and sometimes ended."""
    room = Room()
    start = draw(st.integers(min_value=0, max_value=5) | st.none())
    for n in range(draw(st.integers(min_value=0, max_value=60))):
        if n == start:
            room.do(MODERATOR, {"type": "start_session"})
        room.now += draw(st.sampled_from([0.5, 30.0, 700.0]))  # 700 s runs a short timer out
        step = draw(st.sampled_from(["moderator"] * 8 + ["juror"] * 8 + ["leave", "join"]))
        if step == "leave":
            room.add(juror_removed(room.state, draw(st.sampled_from(sorted(JURORS))), now=room.now))
        elif step == "join":
            room.add(juror_added(room.state, 5, "Eve", now=room.now))
        else:
            actor = (
                MODERATOR if step == "moderator" else RoomActor.juror(draw(st.sampled_from([1, 2, 3, 4, 5])))
            )
            offers = allowed(room.state, actor, now=room.now) - {"start_session", "end_session"}
            kinds = sorted({offer_of_kind(o) for o in offers})
            if kinds:  # each kind of command as likely as any other, then what it is about
                kind = draw(st.sampled_from(kinds))
                offer = draw(
                    st.sampled_from(sorted((o for o in offers if offer_of_kind(o) == kind), key=repr))
                )
                command = draw(st.sampled_from(page_commands(room.state, offer)))
                if command["type"] == "add_item":
                    command["minutes"] = draw(st.sampled_from([0.5, 10]))
                with suppress(CommandRefused):  # an amendment after another changes nothing, say
                    room.do(actor, command)
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        room.do(MODERATOR, {"type": "end_session"})
    return room


@settings(max_examples=150, deadline=None)
@given(rooms())
def test_a_command_is_allowed_exactly_when_decide_accepts_it(room: Room) -> None:
    for actor in ACTORS:
        offers = allowed(room.state, actor, now=room.now)
        possible = every_offer(room.state)
        assert offers <= set(possible)
        for offer in possible:
            for command in page_commands(room.state, offer):
                assert accepted(room, actor, command) == (offer in offers), (actor, command)


def test_every_command_is_allowed_and_offered_at_some_point_of_a_session() -> None:
    room, seen = Room(), set()

    def look() -> None:
        for actor in ACTORS:
            seen.update(offer_of_kind(o) for o in allowed(room.state, actor, now=room.now))

    look()
    for actor, command in [
        (MODERATOR, {"type": "start_session"}),
        (MODERATOR, {"type": "add_item", "phase": "evidence", "title": "Officer", "minutes": 10}),
        (MODERATOR, {"type": "start_timer", "item": 1}),
        (RoomActor.juror(1), {"type": "raise_hand"}),
        (MODERATOR, {"type": "next_speaker"}),
        (MODERATOR, {"type": "open_straw_poll", "question": "Cut route 7?", "options": ["Yes", "No"]}),
        (MODERATOR, {"type": "close_straw_poll", "poll": 2}),
        (MODERATOR, {"type": "draft_recommendation", "text": "Keep route 7"}),
        (MODERATOR, {"type": "open_vote", "recommendation": 3}),
        (MODERATOR, {"type": "close_vote", "recommendation": 3}),
    ]:
        room.do(actor, command)
        look()
        assert_page_offers_what_is_allowed(room)
    assert seen == set(COMMANDS)
    room.do(MODERATOR, {"type": "end_session"})
    assert all(allowed(room.state, actor, now=room.now) == frozenset() for actor in ACTORS)
    assert_page_offers_what_is_allowed(room)


def test_an_observer_may_send_nothing_and_a_juror_off_the_panel_neither() -> None:
    room = Room()
    room.do(MODERATOR, {"type": "start_session"})
    assert allowed(room.state, OBSERVER, now=room.now) == frozenset()
    assert allowed(room.state, RoomActor.juror(5), now=room.now) == frozenset()
    assert allowed(room.state, RoomActor.juror(1), now=room.now) == {"raise_hand"}


def test_what_the_state_forbids_is_not_allowed() -> None:
    room = Room()
    room.do(MODERATOR, {"type": "start_session"})
    room.do(MODERATOR, {"type": "add_item", "phase": "welcome", "title": "Rules", "minutes": 1})
    room.do(MODERATOR, {"type": "start_timer", "item": 1})
    room.now += 120  # the minute has run out
    room.do(MODERATOR, {"type": "pause_timer", "item": 1})
    mod = allowed(room.state, MODERATOR, now=room.now)
    assert ("start_timer", 1) not in mod and ("extend_timer", 1) in mod  # extend it first
    room.do(MODERATOR, {"type": "open_straw_poll", "question": "Q?", "options": ["a", "b"]})
    assert "open_straw_poll" not in allowed(room.state, MODERATOR, now=room.now)  # one open at a time
    room.do(RoomActor.juror(2), {"type": "raise_hand"})
    room.do(MODERATOR, {"type": "next_speaker"})
    assert "raise_hand" not in allowed(room.state, RoomActor.juror(2), now=room.now)  # speaking now
    for n in range(MAX_ITEMS - 1):
        room.do(MODERATOR, {"type": "add_item", "phase": "welcome", "title": f"Item {n}", "minutes": 1})
    assert "add_item" not in allowed(room.state, MODERATOR, now=room.now)


# --- the room page asks, and does not decide ---------------------------------------------------

PAGE = TEMPLATES.env.get_template("jury_room/_room.html")  # the pages' environment: its words and filters
FORM = re.compile(r"<form\b.*?</form>", re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def html_of(room: Room, actor: RoomActor) -> str:
    return PAGE.render(
        session=SimpleNamespace(id=1),
        jury=SimpleNamespace(title="Buses jury"),
        role=actor.role.value,
        room=view(room.state, actor.role, actor.juror_id),
        allowed=allowed(room.state, actor, now=room.now),
        server_now=room.now,
        socket_path="/live",
        fragment_path="/fragment",
        csrf_token="csrf",
        command_error=None,
    )


def offered(room: Room, actor: RoomActor) -> list[dict[str, Any]]:
    """The commands the room page shows ``actor``, one per form, as the page would send them."""
    html = html_of(room, actor)
    commands = []
    for form in FORM.findall(html):
        fields: dict[str, Any] = {k: int(v) if v.isdigit() else v for k, v in HIDDEN.findall(form)}
        del fields["csrf_token"]
        about = fields.get(ABOUT.get(fields["type"], ""))
        offer = fields["type"] if about is None else (fields["type"], about)
        commands.append(page_commands(room.state, offer)[0] | fields)
    return commands


def offer_of(command: dict[str, Any]) -> Offer:
    about = command.get(ABOUT.get(command["type"], ""))
    return command["type"] if about is None else (command["type"], about)


def assert_page_offers_what_is_allowed(room: Room) -> None:
    s = room.state
    for actor in ACTORS:
        commands = offered(room, actor)
        for command in commands:
            speaking = command["type"] == "raise_hand" and s.speaker == actor.juror_id  # kept as it was
            assert speaking or accepted(room, actor, command), (actor, command)
        not_offered = allowed(s, actor, now=room.now) - {offer_of(c) for c in commands}
        # Ending the session is a link to a page that asks first, not a form.
        if "end_session" in not_offered:
            assert 'href="/council/jury-sessions/1/end"' in html_of(room, actor)
            not_offered -= {"end_session"}
        # The page has no button for taking a hand down, nor to open what is open already.
        assert not_offered <= {("remove_hand", j) for j in s.queue} | {
            ("open_item", s.current_item),
            ("set_phase", s.phase),
        }


@settings(max_examples=100, deadline=None)
@given(rooms())
def test_the_room_page_offers_what_is_allowed_and_nothing_else(room: Room) -> None:
    assert_page_offers_what_is_allowed(room)
