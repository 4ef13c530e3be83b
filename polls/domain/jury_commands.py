"""Jury room commands: who may send each, its fields, and the events it causes (``decide``).

``decide(state, actor, command, now=...)`` checks a command, in this order, for a known type, the
actor's role, its fields, then the room's state, and returns the events it causes or raises
CommandRefused (with one of the protocol's error codes). It never changes ``state``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, HttpUrl

from polls.domain.jury_room import (
    CHOICES,
    MAX_EXTEND,
    MAX_ITEMS,
    CommandRefused,
    Event,
    Role,
    RoomActor,
    RoomState,
)
from polls.domain.validation import StrictSpec, parse
from polls.errors import ValidationFailed
from polls.i18n import N_


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


class _OpenVote(_Command):
    recommendation: int = Field(ge=1)
    ballot: Literal["secret", "named"] = "secret"


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
    "open_vote": (Role.MODERATOR, _OpenVote),
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
        raise CommandRefused("unauthorised", N_("You are not on this jury's panel"))
    try:
        fields = parse(spec, {k: v for k, v in command.items() if k != "type"})
    except ValidationFailed as exc:
        detail = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        raise CommandRefused("malformed", f"Check the command's fields ({detail})") from None
    if state.status == "ended":
        raise _refuse(N_("The session has ended"))
    if state.status == "waiting" and kind not in _PREPARE:
        raise _refuse(N_("The session has not started yet"))
    data = _DECIDERS[kind](state, actor, fields, now)
    return [Event(type=data.pop("type"), data=data, at=now, sealed=data.pop("sealed", None))]


Decided = dict[str, Any]


def _start(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    if s.status != "waiting":
        raise _refuse(N_("The session has already started"))
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
        raise _refuse(N_("That timer is already running"))
    if timer.remaining <= 0:
        raise _refuse(N_("That timer has run out: extend it first"))
    return {"type": "timer_started", "item": c.item}


def _pause_timer(s: RoomState, a: RoomActor, c: _ItemRef, now: float) -> Decided:
    if s.item(c.item).timer.started_at is None:
        raise _refuse(N_("That timer is not running"))
    return {"type": "timer_paused", "item": c.item}


def _extend_timer(s: RoomState, a: RoomActor, c: _Extend, now: float) -> Decided:
    s.item(c.item)
    return {"type": "timer_extended", "item": c.item, "seconds": c.seconds}


def _raise_hand(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    if a.juror_id in s.queue:
        raise _refuse(N_("Your hand is already raised"))
    if a.juror_id == s.speaker:
        raise _refuse(N_("You are speaking now"))
    return {"type": "hand_raised", "juror": a.juror_id}


def _lower_hand(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    if a.juror_id not in s.queue:
        raise _refuse(N_("Your hand is not raised"))
    return {"type": "hand_lowered", "juror": a.juror_id}


def _remove_hand(s: RoomState, a: RoomActor, c: _JurorRef, now: float) -> Decided:
    if c.juror not in s.queue:
        raise _refuse(N_("That juror is not in the queue"))
    return {"type": "hand_lowered", "juror": c.juror}


def _next_speaker(s: RoomState, a: RoomActor, c: _MaybeJuror, now: float) -> Decided:
    """The first in the queue, or a named juror (to bring in someone who has said little)."""
    if c.juror is None:
        if not s.queue:
            raise _refuse(N_("Nobody is waiting to speak"))
        return {"type": "speaker_called", "juror": s.queue[0]}
    if c.juror not in s.jurors:
        raise CommandRefused("not_found", f"There is no juror {c.juror} on this panel")
    return {"type": "speaker_called", "juror": c.juror}


def _finish_speaker(s: RoomState, a: RoomActor, c: Any, now: float) -> Decided:
    if s.speaker is None:
        raise _refuse(N_("Nobody is speaking"))
    return {"type": "speaker_finished"}


def _publish(s: RoomState, a: RoomActor, c: _Publish, now: float) -> Decided:
    _limit(s.evidence, "evidence items")
    if not c.text and c.url is None:
        raise CommandRefused("malformed", N_("Give the evidence's text or a link to it"))
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
        raise CommandRefused("malformed", N_("Give 2 to 10 different options of up to 200 characters"))
    if any(p.status == "open" for p in s.straw_polls):
        raise _refuse(N_("Close the open straw poll first"))
    return {"type": "straw_poll_opened", "id": s.next_id, "question": c.question, "options": options}


def _straw_vote(s: RoomState, a: RoomActor, c: _StrawVote, now: float) -> Decided:
    poll = s.straw_poll(c.poll)
    if poll.status != "open":
        raise _refuse(N_("That straw poll has closed"))
    if c.option >= len(poll.options):
        raise CommandRefused("not_found", N_("There is no such option"))
    return {"type": "straw_vote_cast", "poll": c.poll, "juror": a.juror_id, "option": c.option}


def _close_straw(s: RoomState, a: RoomActor, c: _PollRef, now: float) -> Decided:
    if s.straw_poll(c.poll).status != "open":
        raise _refuse(N_("That straw poll has already closed"))
    return {"type": "straw_poll_closed", "poll": c.poll}


def _show_straw(s: RoomState, a: RoomActor, c: _PollRef, now: float) -> Decided:
    poll = s.straw_poll(c.poll)
    if poll.status != "closed":
        raise _refuse(N_("Close the straw poll before showing its results"))
    if poll.shown:
        raise _refuse(N_("Its results are already shown"))
    return {"type": "straw_poll_shown", "poll": c.poll}


def _draft(s: RoomState, a: RoomActor, c: _Draft, now: float) -> Decided:
    _limit(s.recommendations, "recommendations")
    return {"type": "recommendation_drafted", "id": s.next_id, "text": c.text}


def _amend(s: RoomState, a: RoomActor, c: _Amend, now: float) -> Decided:
    rec = s.recommendation(c.recommendation)
    if rec.status != "draft":
        raise _refuse(N_("A recommendation cannot change once its vote has opened"))
    if c.text == rec.text:
        raise _refuse(N_("The amended text is the same as the current text"))
    return {"type": "recommendation_amended", "recommendation": rec.id, "text": c.text, "note": c.note}


def _open_vote(s: RoomState, a: RoomActor, c: _OpenVote, now: float) -> Decided:
    """Secret unless the moderator opens it as a named vote: either way it is fixed from now on."""
    if s.recommendation(c.recommendation).status != "draft":
        raise _refuse(N_("That recommendation's vote has already opened"))
    return {"type": "vote_opened", "recommendation": c.recommendation, "ballot": c.ballot}


def _vote(s: RoomState, a: RoomActor, c: _Vote, now: float) -> Decided:
    rec = s.recommendation(c.recommendation)
    if rec.status != "voting":
        raise _refuse(N_("That recommendation is not open for voting"))
    if not rec.secret:
        return {"type": "vote_cast", "recommendation": rec.id, "juror": a.juror_id, "choice": c.choice}
    if a.juror_id in rec.voters:
        raise _refuse(
            N_("You have voted: a secret vote cannot be changed, as nobody knows which way it went")
        )
    if a.juror_id not in rec.electorate:
        raise _refuse(N_("You joined the panel after this secret vote opened"))
    # The log says only that this juror voted; the choice goes, unlogged, into the tally.
    return {"type": "juror_voted", "recommendation": rec.id, "juror": a.juror_id, "sealed": c.choice}


def _close_vote(s: RoomState, a: RoomActor, c: _RecRef, now: float) -> Decided:
    rec = s.recommendation(c.recommendation)
    if rec.status != "voting":
        raise _refuse(N_("That recommendation is not open for voting"))
    if not rec.secret:
        return {"type": "vote_closed", "recommendation": rec.id}
    counts = dict.fromkeys(CHOICES, 0) | s.sealed_tallies.get(rec.id, {})
    return {"type": "vote_closed", "recommendation": rec.id, "counts": counts}


def _minority(s: RoomState, a: RoomActor, c: _Minority, now: float) -> Decided:
    _limit(s.minority_reports, "minority reports")
    if s.recommendation(c.recommendation).status != "closed":
        raise _refuse(N_("Minority reports are added once the recommendation's vote has closed"))
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
