"""A jury room's live state, as a pure reducer over the session's event log.

``decide(state, actor, command, now=...)`` checks a command against the state and the actor's
role and returns the events it causes (or raises ``CommandRefused``); ``apply(state, event)``
folds one event into a new state; ``replay(events)`` folds a whole log. Nothing here does I/O:
the store numbers and keeps events, the live layer fans them out, and every instance that folds
the same log reaches the same state.

Roles: the **moderator** runs the room (agenda, timers, speaking queue, evidence, polls,
recommendations); a **juror** raises and lowers their hand, votes, and writes minority reports;
an **observer** only watches. ``view(state, audience)`` is what each one is shown: nobody but
the juror themself ever sees how a juror voted, and observers see vote counts only once a poll
or vote has closed (straw polls: once the moderator shows the results).

Times are seconds since the epoch, taken once by ``decide`` and carried in the event, so a
timer's ``started_at`` and ``remaining`` let every client compute the same countdown.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar

from pydantic import Field, HttpUrl

from polls.domain.validation import StrictSpec, parse
from polls.errors import ValidationFailed

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
    ballots: dict[int, str] = field(default_factory=dict)  # juror -> yes | no | abstain

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(CHOICES, 0)
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


def apply(state: RoomState, event: Event) -> RoomState:
    """The state after ``event``; ``state`` itself is left as it was."""
    new = copy.deepcopy(state)
    _fold(new, event)
    return new


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
    d = e.data
    s.seq = e.seq
    if "id" in d:
        s.next_id = max(s.next_id, int(d["id"]) + 1)
    t = e.type
    if t == "session_created":
        s.title, s.remit, s.threshold = d["title"], d["remit"], int(d["threshold"])
        s.jurors = {int(j["id"]): str(j["name"]) for j in d["jurors"]}
    elif t == "juror_added":
        s.jurors[int(d["juror"])] = str(d["name"])
    elif t == "session_started":
        s.status = "live"
    elif t == "session_ended":
        _end_speaker(s, e.at)
        for item in s.items:
            _pause(item.timer, e.at)
        s.status = "ended"
    elif t == "phase_set":
        s.phase = d["phase"]
        if s.current_item is not None and s.item(s.current_item).phase != s.phase:
            s.current_item = None
    elif t == "item_added":
        seconds = float(d["seconds"])
        s.items.append(Item(d["id"], d["phase"], d["title"], Timer(seconds, seconds)))
    elif t == "item_opened":
        s.current_item = d["item"]
        s.phase = s.item(d["item"]).phase
    elif t == "timer_started":
        s.item(d["item"]).timer.started_at = e.at
    elif t == "timer_paused":
        _pause(s.item(d["item"]).timer, e.at)
    elif t == "timer_extended":
        timer = s.item(d["item"]).timer
        timer.duration += d["seconds"]
        timer.remaining += d["seconds"]
    elif t == "hand_raised":
        s.queue.append(d["juror"])
    elif t == "hand_lowered":
        s.queue.remove(d["juror"])
    elif t == "speaker_called":
        _end_speaker(s, e.at)
        if d["juror"] in s.queue:
            s.queue.remove(d["juror"])
        s.speaker, s.speaker_since = d["juror"], e.at
    elif t == "speaker_finished":
        _end_speaker(s, e.at)
    elif t == "evidence_published":
        s.evidence.append(
            Evidence(d["id"], d["kind"], d["title"], d["text"], d.get("url"), d.get("witness"), e.at)
        )
    elif t == "straw_poll_opened":
        s.straw_polls.append(StrawPoll(d["id"], d["question"], list(d["options"])))
    elif t == "straw_vote_cast":
        s.straw_poll(d["poll"]).votes[d["juror"]] = d["option"]
    elif t == "straw_poll_closed":
        s.straw_poll(d["poll"]).status = "closed"
    elif t == "straw_poll_shown":
        s.straw_poll(d["poll"]).shown = True
    elif t == "recommendation_drafted":
        s.recommendations.append(Recommendation(d["id"], d["text"]))
    elif t == "recommendation_amended":
        rec = s.recommendation(d["recommendation"])
        rec.amendments.append(Amendment(rec.text, d["note"], e.at))
        rec.text = d["text"]
    elif t == "vote_opened":
        s.recommendation(d["recommendation"]).status = "voting"
    elif t == "vote_cast":
        s.recommendation(d["recommendation"]).ballots[d["juror"]] = d["choice"]
    elif t == "vote_closed":
        s.recommendation(d["recommendation"]).status = "closed"
    elif t == "minority_report_added":
        s.minority_reports.append(MinorityReport(d["id"], d["recommendation"], d["text"]))
    else:
        raise ValueError(f"unknown event type {t!r}")


def _pause(timer: Timer, at: float) -> None:
    if timer.started_at is not None:
        timer.remaining = timer.left(at)
        timer.started_at = None


# --- commands ------------------------------------------------------------------------------


class _Command(StrictSpec):
    pass


class _Empty(_Command):
    pass


class _Phase(_Command):
    phase: Literal["welcome", "evidence", "deliberation", "decision"]


class _AddItem(_Command):
    phase: Literal["welcome", "evidence", "deliberation", "decision"]
    title: str = Field(min_length=1, max_length=200)
    minutes: float = Field(gt=0, le=480)


class _ItemRef(_Command):
    item: int = Field(ge=1)


class _Extend(_Command):
    item: int = Field(ge=1)
    seconds: int = Field(ge=1, le=MAX_EXTEND)


class _JurorRef(_Command):
    juror: int = Field(ge=1)


class _MaybeJuror(_Command):
    juror: int | None = Field(default=None, ge=1)


class _Publish(_Command):
    kind: Literal["document", "witness"]
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=20_000)
    url: HttpUrl | None = None
    witness: str | None = Field(default=None, max_length=120)


class _OpenStraw(_Command):
    question: str = Field(min_length=1, max_length=300)
    options: list[str] = Field(min_length=2, max_length=10)


class _PollRef(_Command):
    poll: int = Field(ge=1)


class _StrawVote(_Command):
    poll: int = Field(ge=1)
    option: int = Field(ge=0)


class _Draft(_Command):
    text: str = Field(min_length=1, max_length=2000)


class _Amend(_Command):
    recommendation: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=2000)
    note: str = Field(default="", max_length=500)


class _RecRef(_Command):
    recommendation: int = Field(ge=1)


class _Vote(_Command):
    recommendation: int = Field(ge=1)
    choice: Literal["yes", "no", "abstain"]


class _Minority(_Command):
    recommendation: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=5000)


# command type -> (who may send it, its fields)
COMMANDS: dict[str, tuple[Role, type[_Command]]] = {
    "start_session": (Role.MODERATOR, _Empty),
    "end_session": (Role.MODERATOR, _Empty),
    "set_phase": (Role.MODERATOR, _Phase),
    "add_item": (Role.MODERATOR, _AddItem),
    "open_item": (Role.MODERATOR, _ItemRef),
    "start_timer": (Role.MODERATOR, _ItemRef),
    "pause_timer": (Role.MODERATOR, _ItemRef),
    "extend_timer": (Role.MODERATOR, _Extend),
    "raise_hand": (Role.JUROR, _Empty),
    "lower_hand": (Role.JUROR, _Empty),
    "remove_hand": (Role.MODERATOR, _JurorRef),
    "next_speaker": (Role.MODERATOR, _MaybeJuror),
    "finish_speaker": (Role.MODERATOR, _Empty),
    "publish_evidence": (Role.MODERATOR, _Publish),
    "open_straw_poll": (Role.MODERATOR, _OpenStraw),
    "straw_vote": (Role.JUROR, _StrawVote),
    "close_straw_poll": (Role.MODERATOR, _PollRef),
    "show_straw_poll": (Role.MODERATOR, _PollRef),
    "draft_recommendation": (Role.MODERATOR, _Draft),
    "amend_recommendation": (Role.MODERATOR, _Amend),
    "open_vote": (Role.MODERATOR, _RecRef),
    "vote": (Role.JUROR, _Vote),
    "close_vote": (Role.MODERATOR, _RecRef),
    "add_minority_report": (Role.JUROR, _Minority),
}
# The moderator may also record a minority report handed to them on paper.
_ALSO_MODERATOR = {"add_minority_report"}
# What the moderator may do before the session starts: prepare the agenda, evidence and drafts.
_PREPARE = {
    "start_session",
    "end_session",
    "set_phase",
    "add_item",
    "publish_evidence",
    "draft_recommendation",
    "amend_recommendation",
}


def _refuse(message: str) -> CommandRefused:
    return CommandRefused("not_allowed", message)


def decide(state: RoomState, actor: RoomActor, command: Mapping[str, Any], *, now: float) -> list[Event]:
    """The events ``command`` (``{"type": ..., fields}``) causes, or CommandRefused.

    Checked in this order: a known type, the actor's role, the fields, then the room's state.
    """
    kind = command.get("type")
    if not isinstance(kind, str) or kind not in COMMANDS:
        raise CommandRefused("unknown_type", f"Unknown command type {str(kind)[:40]!r}")
    role, spec = COMMANDS[kind]
    if actor.role is not role and not (actor.role is Role.MODERATOR and kind in _ALSO_MODERATOR):
        raise CommandRefused("unauthorised", f"A {actor.role.value} cannot {kind.replace('_', ' ')}")
    if actor.role is Role.JUROR and actor.juror_id not in state.jurors:
        raise CommandRefused("unauthorised", "You are not on this jury's panel")
    try:
        fields = parse(spec, {k: v for k, v in command.items() if k != "type"})
    except ValidationFailed as exc:
        detail = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        raise CommandRefused("malformed", f"Check the command's fields ({detail})") from None
    if state.status == "ended":
        raise _refuse("The session has ended")
    if state.status == "waiting" and kind not in _PREPARE:
        raise _refuse("The session has not started yet")
    data = _DECIDERS[kind](state, actor, fields, now)
    return [Event(type=data.pop("type"), data=data, at=now)]


Decided = dict[str, Any]


def _start(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    if s.status != "waiting":
        raise _refuse("The session has already started")
    return {"type": "session_started"}


def _end(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    return {"type": "session_ended"}


def _set_phase(s: RoomState, a: RoomActor, c: _Phase, now: float) -> Decided:
    return {"type": "phase_set", "phase": c.phase}


def _limit(things: list[Any], what: str) -> None:
    if len(things) >= MAX_ITEMS:
        raise _refuse(f"A session can have at most {MAX_ITEMS} {what}")


def _add_item(s: RoomState, a: RoomActor, c: _AddItem, now: float) -> Decided:
    _limit(s.items, "agenda items")
    return {
        "type": "item_added",
        "id": s.next_id,
        "phase": c.phase,
        "title": c.title,
        "seconds": c.minutes * 60,
    }


def _open_item(s: RoomState, a: RoomActor, c: _ItemRef, now: float) -> Decided:
    s.item(c.item)
    return {"type": "item_opened", "item": c.item}


def _start_timer(s: RoomState, a: RoomActor, c: _ItemRef, now: float) -> Decided:
    timer = s.item(c.item).timer
    if timer.started_at is not None:
        raise _refuse("That timer is already running")
    if timer.remaining <= 0:
        raise _refuse("That timer has run out: extend it first")
    return {"type": "timer_started", "item": c.item}


def _pause_timer(s: RoomState, a: RoomActor, c: _ItemRef, now: float) -> Decided:
    if s.item(c.item).timer.started_at is None:
        raise _refuse("That timer is not running")
    return {"type": "timer_paused", "item": c.item}


def _extend_timer(s: RoomState, a: RoomActor, c: _Extend, now: float) -> Decided:
    s.item(c.item)
    return {"type": "timer_extended", "item": c.item, "seconds": c.seconds}


def _raise_hand(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    if a.juror_id in s.queue:
        raise _refuse("Your hand is already raised")
    if a.juror_id == s.speaker:
        raise _refuse("You are speaking now")
    return {"type": "hand_raised", "juror": a.juror_id}


def _lower_hand(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    if a.juror_id not in s.queue:
        raise _refuse("Your hand is not raised")
    return {"type": "hand_lowered", "juror": a.juror_id}


def _remove_hand(s: RoomState, a: RoomActor, c: _JurorRef, now: float) -> Decided:
    if c.juror not in s.queue:
        raise _refuse("That juror is not in the queue")
    return {"type": "hand_lowered", "juror": c.juror}


def _next_speaker(s: RoomState, a: RoomActor, c: _MaybeJuror, now: float) -> Decided:
    """The first in the queue, or a named juror (to bring in someone who has said little)."""
    if c.juror is None:
        if not s.queue:
            raise _refuse("Nobody is waiting to speak")
        return {"type": "speaker_called", "juror": s.queue[0]}
    if c.juror not in s.jurors:
        raise CommandRefused("not_found", f"There is no juror {c.juror} on this panel")
    return {"type": "speaker_called", "juror": c.juror}


def _finish_speaker(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    if s.speaker is None:
        raise _refuse("Nobody is speaking")
    return {"type": "speaker_finished"}


def _publish(s: RoomState, a: RoomActor, c: _Publish, now: float) -> Decided:
    _limit(s.evidence, "evidence items")
    if not c.text and c.url is None:
        raise CommandRefused("malformed", "Give the evidence's text or a link to it")
    return {
        "type": "evidence_published",
        "id": s.next_id,
        "kind": c.kind,
        "title": c.title,
        "text": c.text,
        "url": None if c.url is None else str(c.url),
        "witness": c.witness,
    }


def _open_straw(s: RoomState, a: RoomActor, c: _OpenStraw, now: float) -> Decided:
    _limit(s.straw_polls, "straw polls")
    options = [o.strip() for o in c.options]
    if any(not o or len(o) > 200 for o in options) or len(set(options)) != len(options):
        raise CommandRefused("malformed", "Give 2 to 10 different options of up to 200 characters")
    if any(p.status == "open" for p in s.straw_polls):
        raise _refuse("Close the open straw poll first")
    return {"type": "straw_poll_opened", "id": s.next_id, "question": c.question, "options": options}


def _straw_vote(s: RoomState, a: RoomActor, c: _StrawVote, now: float) -> Decided:
    poll = s.straw_poll(c.poll)
    if poll.status != "open":
        raise _refuse("That straw poll has closed")
    if c.option >= len(poll.options):
        raise CommandRefused("not_found", "There is no such option")
    return {"type": "straw_vote_cast", "poll": c.poll, "juror": a.juror_id, "option": c.option}


def _close_straw(s: RoomState, a: RoomActor, c: _PollRef, now: float) -> Decided:
    if s.straw_poll(c.poll).status != "open":
        raise _refuse("That straw poll has already closed")
    return {"type": "straw_poll_closed", "poll": c.poll}


def _show_straw(s: RoomState, a: RoomActor, c: _PollRef, now: float) -> Decided:
    poll = s.straw_poll(c.poll)
    if poll.status != "closed":
        raise _refuse("Close the straw poll before showing its results")
    if poll.shown:
        raise _refuse("Its results are already shown")
    return {"type": "straw_poll_shown", "poll": c.poll}


def _draft(s: RoomState, a: RoomActor, c: _Draft, now: float) -> Decided:
    _limit(s.recommendations, "recommendations")
    return {"type": "recommendation_drafted", "id": s.next_id, "text": c.text}


def _amend(s: RoomState, a: RoomActor, c: _Amend, now: float) -> Decided:
    rec = s.recommendation(c.recommendation)
    if rec.status != "draft":
        raise _refuse("A recommendation cannot change once its vote has opened")
    if c.text == rec.text:
        raise _refuse("The amended text is the same as the current text")
    return {"type": "recommendation_amended", "recommendation": rec.id, "text": c.text, "note": c.note}


def _open_vote(s: RoomState, a: RoomActor, c: _RecRef, now: float) -> Decided:
    if s.recommendation(c.recommendation).status != "draft":
        raise _refuse("That recommendation's vote has already opened")
    return {"type": "vote_opened", "recommendation": c.recommendation}


def _vote(s: RoomState, a: RoomActor, c: _Vote, now: float) -> Decided:
    if s.recommendation(c.recommendation).status != "voting":
        raise _refuse("That recommendation is not open for voting")
    return {"type": "vote_cast", "recommendation": c.recommendation, "juror": a.juror_id, "choice": c.choice}


def _close_vote(s: RoomState, a: RoomActor, c: _RecRef, now: float) -> Decided:
    if s.recommendation(c.recommendation).status != "voting":
        raise _refuse("That recommendation is not open for voting")
    return {"type": "vote_closed", "recommendation": c.recommendation}


def _minority(s: RoomState, a: RoomActor, c: _Minority, now: float) -> Decided:
    _limit(s.minority_reports, "minority reports")
    if s.recommendation(c.recommendation).status != "closed":
        raise _refuse("Minority reports are added once the recommendation's vote has closed")
    return {
        "type": "minority_report_added",
        "id": s.next_id,
        "recommendation": c.recommendation,
        "text": c.text,
    }


_DECIDERS: dict[str, Any] = {
    "start_session": _start,
    "end_session": _end,
    "set_phase": _set_phase,
    "add_item": _add_item,
    "open_item": _open_item,
    "start_timer": _start_timer,
    "pause_timer": _pause_timer,
    "extend_timer": _extend_timer,
    "raise_hand": _raise_hand,
    "lower_hand": _lower_hand,
    "remove_hand": _remove_hand,
    "next_speaker": _next_speaker,
    "finish_speaker": _finish_speaker,
    "publish_evidence": _publish,
    "open_straw_poll": _open_straw,
    "straw_vote": _straw_vote,
    "close_straw_poll": _close_straw,
    "show_straw_poll": _show_straw,
    "draft_recommendation": _draft,
    "amend_recommendation": _amend,
    "open_vote": _open_vote,
    "vote": _vote,
    "close_vote": _close_vote,
    "add_minority_report": _minority,
}


def created(title: str, remit: str, threshold: int, jurors: Mapping[int, str], *, now: float) -> Event:
    """The first event of every session (written by the store when the session is made)."""
    roster = [{"id": j, "name": n} for j, n in sorted(jurors.items())]
    return Event(
        "session_created", {"title": title, "remit": remit, "threshold": threshold, "jurors": roster}, now
    )


def juror_added(state: RoomState, juror_id: int, name: str, *, now: float) -> list[Event]:
    """A juror who accepted after the session was made joins its panel on first arrival."""
    if juror_id in state.jurors:
        return []
    return [Event("juror_added", {"juror": juror_id, "name": name}, now)]


# --- what each audience sees ----------------------------------------------------------------


def project(event: Event, role: Role, juror_id: int | None = None) -> dict[str, Any]:
    """An event as ``role`` may see it: a vote names neither the juror nor the choice, except to
    the juror who cast it."""
    data = dict(event.data)
    if event.type in ("straw_vote_cast", "vote_cast") and not (
        role is Role.JUROR and data["juror"] == juror_id
    ):
        data.pop("juror")
        data.pop("option" if event.type == "straw_vote_cast" else "choice")
    return {"type": event.type, "at": event.at, **data}


def view(state: RoomState, role: Role, juror_id: int | None = None) -> dict[str, Any]:
    """The room as ``role`` sees it (plain JSON). Timers give ``remaining`` and ``started_at``
    (null when paused): seconds left = remaining - (now - started_at)."""
    name = state.jurors.get
    out: dict[str, Any] = {
        "seq": state.seq,
        "title": state.title,
        "remit": state.remit,
        "threshold": state.threshold,
        "status": state.status,
        "phase": state.phase,
        "phases": list(PHASES),
        "current_item": state.current_item,
        "items": [
            {
                "id": i.id,
                "phase": i.phase,
                "title": i.title,
                "duration": i.timer.duration,
                "remaining": i.timer.remaining,
                "started_at": i.timer.started_at,
            }
            for i in state.items
        ],
        "queue": [{"juror": j, "name": name(j, "")} for j in state.queue],
        "speaker": None
        if state.speaker is None
        else {"juror": state.speaker, "name": name(state.speaker, ""), "since": state.speaker_since},
        "evidence": [
            {
                "id": e.id,
                "kind": e.kind,
                "title": e.title,
                "text": e.text,
                "url": e.url,
                "witness": e.witness,
                "at": e.at,
            }
            for e in state.evidence
        ],
        "straw_polls": [_straw_view(p, role, juror_id) for p in state.straw_polls],
        "recommendations": [_rec_view(r, state.threshold, role, juror_id) for r in state.recommendations],
        "minority_reports": [
            {"id": m.id, "recommendation": m.recommendation, "text": m.text} for m in state.minority_reports
        ],
        "role": role.value,
    }
    if role is Role.MODERATOR:
        out["jurors"] = [
            {"juror": j, "name": n, "spoken": round(state.spoken.get(j, 0.0), 1)}
            for j, n in sorted(state.jurors.items(), key=lambda jn: (state.spoken.get(jn[0], 0.0), jn[1]))
        ]
    elif role is Role.JUROR and juror_id is not None:
        out["me"] = {"juror": juror_id, "name": name(juror_id, ""), "hand_raised": juror_id in state.queue}
    return out


def _straw_view(p: StrawPoll, role: Role, juror_id: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "question": p.question,
        "options": p.options,
        "status": p.status,
        "shown": p.shown,
        "voters": len(p.votes),
    }
    if role is Role.MODERATOR or p.shown:
        out["counts"] = p.counts()
    if role is Role.JUROR and juror_id is not None:
        out["my_vote"] = p.votes.get(juror_id)
    return out


def _rec_view(r: Recommendation, threshold: int, role: Role, juror_id: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "text": r.text,
        "amendments": [{"previous": a.text, "note": a.note, "at": a.at} for a in r.amendments],
        "status": r.status,
        "voters": len(r.ballots),
    }
    if role is Role.MODERATOR or r.status == "closed":
        out["counts"] = r.counts()
    if r.status == "closed":
        out["passed"] = passed(r, threshold)
    if role is Role.JUROR and juror_id is not None:
        out["my_vote"] = r.ballots.get(juror_id)
    return out
