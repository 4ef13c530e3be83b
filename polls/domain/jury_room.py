"""A jury room's live state, as a pure reducer over the session's event log.

``replay(events, state)`` folds a log (or the rest of one) into a new state; ``fold_in_place``
folds into a state its one owner keeps. Commands are checked and turned into events by
polls.domain.jury_commands (``decide``), and each audience's view of the state is in
polls.domain.jury_views. Nothing here does I/O: the store numbers and keeps events, the live
layer fans them out, and every instance that folds the same log reaches the same state.

Roles: the **moderator** runs the room (agenda, timers, speaking queue, evidence, polls,
recommendations); a **juror** raises and lowers their hand, votes, and writes minority reports;
an **observer** only watches.

A recommendation vote is **secret** unless the moderator opens it as a **named** (open) vote.
A secret vote's log records that a juror voted (``juror_voted``) and, when it closes, the tally
(in ``vote_closed``), never which way anyone voted: the juror's choice travels beside the event
(``Event.sealed``), which the store adds to an anonymous running tally and never writes to the log.

Times are seconds since the epoch, taken once when a command is decided and carried in the
event, so a timer's ``started_at`` and ``remaining`` let every client compute the same countdown.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

PHASES = ("welcome", "evidence", "deliberation", "decision")
CHOICES = ("yes", "no", "abstain")
MAX_ITEMS = 100  # per kind (agenda items, evidence, polls, recommendations, reports)
MAX_EXTEND = 3600


class Role(StrEnum):
    MODERATOR = "moderator"
    JUROR = "juror"
    OBSERVER = "observer"


@dataclass(frozen=True)
class RoomActor:
    role: Role
    juror_id: int | None = None

    @classmethod
    def juror(cls, juror_id: int) -> RoomActor:
        return cls(Role.JUROR, juror_id)


MODERATOR = RoomActor(Role.MODERATOR)
OBSERVER = RoomActor(Role.OBSERVER)


class CommandRefused(Exception):
    """A command that changes nothing: ``code`` is one of the protocol's error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Event:
    """One entry of the log. ``seq`` is given by the store (1, 2, 3, ... per session)."""

    type: str
    data: dict[str, Any]
    at: float
    seq: int = 0
    # A secret vote's choice: counted by the store in an anonymous tally, never logged or sent.
    sealed: str | None = field(default=None, compare=False, repr=False)


# --- state -------------------------------------------------------------------------------


@dataclass
class Timer:
    duration: float
    remaining: float
    started_at: float | None = None  # None while paused

    def left(self, now: float) -> float:
        if self.started_at is None:
            return self.remaining
        return max(0.0, self.remaining - (now - self.started_at))


@dataclass
class Item:
    id: int
    phase: str
    title: str
    timer: Timer


@dataclass
class Evidence:
    id: int
    kind: str  # document | witness
    title: str
    text: str
    url: str | None
    witness: str | None
    at: float


@dataclass
class StrawPoll:
    id: int
    question: str
    options: list[str]
    status: str = "open"  # open | closed
    shown: bool = False
    votes: dict[int, int] = field(default_factory=dict)  # juror -> option index

    def counts(self) -> list[int]:
        out = [0] * len(self.options)
        for option in self.votes.values():
            out[option] += 1
        return out


@dataclass
class Amendment:
    text: str
    note: str
    at: float


@dataclass
class Recommendation:
    id: int
    text: str
    amendments: list[Amendment] = field(default_factory=list)
    status: str = "draft"  # draft | voting | closed
    ballot: str = "secret"  # secret | named, chosen when the vote opens
    ballots: dict[int, str] = field(default_factory=dict)  # named vote: juror -> yes | no | abstain
    names: dict[int, str] = field(default_factory=dict)  # named vote: juror -> name when they voted
    voters: set[int] = field(default_factory=set)  # secret vote: who voted, never how
    electorate: set[int] = field(default_factory=set)  # secret vote: the panel when it opened
    tally: dict[str, int] | None = None  # secret vote: the counts, known once it closes

    @property
    def secret(self) -> bool:
        return self.ballot == "secret"

    def voted(self) -> int:
        return len(self.voters) if self.secret else len(self.ballots)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(CHOICES, 0)
        if self.secret:
            return out | (self.tally or {})
        for choice in self.ballots.values():
            out[choice] += 1
        return out


@dataclass
class MinorityReport:
    id: int
    recommendation: int
    text: str


@dataclass
class RoomState:
    seq: int = 0
    title: str = ""
    remit: str = ""
    threshold: int = 75  # percent of yes among yes + no votes for a recommendation to pass
    status: str = "waiting"  # waiting | live | ended
    jurors: dict[int, str] = field(default_factory=dict)  # juror id -> display name
    phase: str = PHASES[0]
    items: list[Item] = field(default_factory=list)
    current_item: int | None = None
    queue: list[int] = field(default_factory=list)
    speaker: int | None = None
    speaker_since: float | None = None
    spoken: dict[int, float] = field(default_factory=dict)  # juror -> seconds spoken so far
    evidence: list[Evidence] = field(default_factory=list)
    straw_polls: list[StrawPoll] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    minority_reports: list[MinorityReport] = field(default_factory=list)
    next_id: int = 1
    # The running tallies of open secret votes, set by the store while it decides a command (so
    # closing a vote can log its counts); never folded from the log and never shown.
    sealed_tallies: dict[int, dict[str, int]] = field(default_factory=dict)

    def item(self, item_id: int) -> Item:
        return _find(self.items, item_id, "agenda item")

    def straw_poll(self, poll_id: int) -> StrawPoll:
        return _find(self.straw_polls, poll_id, "straw poll")

    def recommendation(self, rec_id: int) -> Recommendation:
        return _find(self.recommendations, rec_id, "recommendation")


def passed(rec: Recommendation, threshold: int) -> bool:
    """At least ``threshold`` percent of the yes and no votes are yes (abstentions do not count)."""
    counts = rec.counts()
    cast = counts["yes"] + counts["no"]
    return counts["yes"] > 0 and counts["yes"] * 100 >= threshold * cast


class _HasId(Protocol):
    id: int


_T = TypeVar("_T", bound=_HasId)


def _find(things: list[_T], wanted: int, what: str) -> _T:
    for thing in things:
        if thing.id == wanted:
            return thing
    raise CommandRefused("not_found", f"There is no {what} {wanted}")


# --- the reducer ---------------------------------------------------------------------------


def replay(events: Iterable[Event], state: RoomState | None = None) -> RoomState:
    """Fold a log (or the rest of one, onto ``state``) in one copy."""
    new = RoomState() if state is None else copy.deepcopy(state)
    for event in events:
        _fold(new, event)
    return new


def fold_in_place(state: RoomState, events: Iterable[Event]) -> None:
    """For the one owner of a live state: fold without copying it."""
    for event in events:
        _fold(state, event)


def _end_speaker(s: RoomState, at: float) -> None:
    if s.speaker is not None and s.speaker_since is not None:
        s.spoken[s.speaker] = s.spoken.get(s.speaker, 0.0) + max(0.0, at - s.speaker_since)
    s.speaker = None
    s.speaker_since = None


def _fold(s: RoomState, e: Event) -> None:
    s.seq = e.seq
    if "id" in e.data:
        s.next_id = max(s.next_id, int(e.data["id"]) + 1)
    apply = _APPLY.get(e.type)
    if apply is None:
        raise ValueError(f"unknown event type {e.type!r}")
    apply(s, e.data, e.at)


# What each kind of event does to the room, given its data and time: the reducer's table.

_Apply = Callable[[RoomState, dict[str, Any], float], None]


def _session_created(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.title, s.remit, s.threshold = d["title"], d["remit"], int(d["threshold"])
    s.jurors = {int(j["id"]): str(j["name"]) for j in d["jurors"]}


def _juror_added(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.jurors[int(d["juror"])] = str(d["name"])


def _juror_removed(s: RoomState, d: dict[str, Any], at: float) -> None:
    _remove_juror(s, int(d["juror"]), at)


def _session_started(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.status = "live"


def _session_ended(s: RoomState, d: dict[str, Any], at: float) -> None:
    _end_speaker(s, at)
    for item in s.items:
        _pause(item.timer, at)
    s.status = "ended"


def _phase_set(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.phase = d["phase"]
    if s.current_item is not None and s.item(s.current_item).phase != s.phase:
        s.current_item = None


def _item_added(s: RoomState, d: dict[str, Any], at: float) -> None:
    seconds = float(d["seconds"])
    s.items.append(Item(d["id"], d["phase"], d["title"], Timer(seconds, seconds)))


def _item_opened(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.current_item = d["item"]
    s.phase = s.item(d["item"]).phase


def _timer_started(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.item(d["item"]).timer.started_at = at


def _timer_paused(s: RoomState, d: dict[str, Any], at: float) -> None:
    _pause(s.item(d["item"]).timer, at)


def _timer_extended(s: RoomState, d: dict[str, Any], at: float) -> None:
    timer = s.item(d["item"]).timer
    timer.duration += d["seconds"]
    if timer.started_at is not None:  # count on from what is left now (an overrun timer has 0)
        timer.remaining, timer.started_at = timer.left(at), at
    timer.remaining += d["seconds"]


def _hand_raised(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.queue.append(d["juror"])


def _hand_lowered(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.queue.remove(d["juror"])


def _speaker_called(s: RoomState, d: dict[str, Any], at: float) -> None:
    _end_speaker(s, at)
    if d["juror"] in s.queue:
        s.queue.remove(d["juror"])
    s.speaker, s.speaker_since = d["juror"], at


def _speaker_finished(s: RoomState, d: dict[str, Any], at: float) -> None:
    _end_speaker(s, at)


def _evidence_published(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.evidence.append(Evidence(d["id"], d["kind"], d["title"], d["text"], d.get("url"), d.get("witness"), at))


def _straw_poll_opened(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.straw_polls.append(StrawPoll(d["id"], d["question"], list(d["options"])))


def _straw_vote_cast(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.straw_poll(d["poll"]).votes[d["juror"]] = d["option"]


def _straw_poll_closed(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.straw_poll(d["poll"]).status = "closed"


def _straw_poll_shown(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.straw_poll(d["poll"]).shown = True


def _recommendation_drafted(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.recommendations.append(Recommendation(d["id"], d["text"]))


def _recommendation_amended(s: RoomState, d: dict[str, Any], at: float) -> None:
    rec = s.recommendation(d["recommendation"])
    rec.amendments.append(Amendment(rec.text, d["note"], at))
    rec.text = d["text"]


def _vote_opened(s: RoomState, d: dict[str, Any], at: float) -> None:
    rec = s.recommendation(d["recommendation"])
    rec.status, rec.ballot = "voting", str(d.get("ballot", "secret"))
    if rec.secret:
        rec.electorate = set(s.jurors)


def _vote_cast(s: RoomState, d: dict[str, Any], at: float) -> None:
    rec = s.recommendation(d["recommendation"])
    rec.ballots[d["juror"]] = d["choice"]
    rec.names[d["juror"]] = s.jurors.get(d["juror"], "")


def _juror_voted(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.recommendation(d["recommendation"]).voters.add(d["juror"])


def _vote_closed(s: RoomState, d: dict[str, Any], at: float) -> None:
    rec = s.recommendation(d["recommendation"])
    rec.status = "closed"
    if "counts" in d:
        rec.tally = {choice: int(d["counts"].get(choice, 0)) for choice in CHOICES}


def _minority_report_added(s: RoomState, d: dict[str, Any], at: float) -> None:
    s.minority_reports.append(MinorityReport(d["id"], d["recommendation"], d["text"]))


_APPLY: dict[str, _Apply] = {
    "session_created": _session_created,
    "juror_added": _juror_added,
    "juror_removed": _juror_removed,
    "session_started": _session_started,
    "session_ended": _session_ended,
    "phase_set": _phase_set,
    "item_added": _item_added,
    "item_opened": _item_opened,
    "timer_started": _timer_started,
    "timer_paused": _timer_paused,
    "timer_extended": _timer_extended,
    "hand_raised": _hand_raised,
    "hand_lowered": _hand_lowered,
    "speaker_called": _speaker_called,
    "speaker_finished": _speaker_finished,
    "evidence_published": _evidence_published,
    "straw_poll_opened": _straw_poll_opened,
    "straw_vote_cast": _straw_vote_cast,
    "straw_poll_closed": _straw_poll_closed,
    "straw_poll_shown": _straw_poll_shown,
    "recommendation_drafted": _recommendation_drafted,
    "recommendation_amended": _recommendation_amended,
    "vote_opened": _vote_opened,
    "vote_cast": _vote_cast,
    "juror_voted": _juror_voted,
    "vote_closed": _vote_closed,
    "minority_report_added": _minority_report_added,
}


def _remove_juror(s: RoomState, juror: int, at: float) -> None:
    """Off the panel: out of the queue and the chair, and their ballots in named votes still open
    no longer count (their seat's replacement may vote instead); closed votes keep them. A secret
    ballot cannot be found to take out: it stays counted, and only the panel as it stood when a
    secret vote opened may vote in it, so a seat never votes twice."""
    if s.speaker == juror:
        _end_speaker(s, at)
    s.jurors.pop(juror, None)
    if juror in s.queue:
        s.queue.remove(juror)
    for rec in s.recommendations:
        if rec.status == "voting":
            rec.ballots.pop(juror, None)
    for poll in s.straw_polls:
        if poll.status == "open":
            poll.votes.pop(juror, None)


def _pause(timer: Timer, at: float) -> None:
    if timer.started_at is not None:
        timer.remaining = timer.left(at)
        timer.started_at = None


def created(title: str, remit: str, threshold: int, jurors: Mapping[int, str], *, now: float) -> Event:
    """The first event of every session (written by the store when the session is made)."""
    roster = [{"id": j, "name": n} for j, n in sorted(jurors.items())]
    return Event(
        "session_created", {"title": title, "remit": remit, "threshold": threshold, "jurors": roster}, now
    )


def juror_added(state: RoomState, juror_id: int, name: str, *, now: float) -> list[Event]:
    """A juror who accepted after the session was made joins its panel on first arrival (not
    once the session has ended: its log is final)."""
    if juror_id in state.jurors or state.status == "ended":
        return []
    return [Event("juror_added", {"juror": juror_id, "name": name}, now)]


def juror_removed(state: RoomState, juror_id: int, *, now: float) -> list[Event]:
    """A juror withdrawn from the jury leaves the panel of every session not yet ended."""
    if juror_id not in state.jurors or state.status == "ended":
        return []
    return [Event("juror_removed", {"juror": juror_id}, now)]
