"""Which jury room commands an actor may send now, asked of ``decide`` so pages never re-decide.

The jury room pages offer a button or form only for what ``allowed`` reports, and
``allowed`` knows no rule of its own: it runs each command a page could offer through
polls.domain.jury_commands.decide, with valid example fields, and keeps those it accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from polls.domain.jury_commands import COMMANDS, decide
from polls.domain.jury_room import CHOICES, PHASES, CommandRefused, RoomActor, RoomState

# What a page asks about: a command's type, or its type and what it is about.
Offer = str | tuple[str, int | str]
# command type -> the field naming what it is about (an agenda item, a phase, a juror, ...)
_ABOUT = {
    "set_phase": "phase",
    "open_item": "item",
    "start_timer": "item",
    "pause_timer": "item",
    "extend_timer": "item",
    "remove_hand": "juror",
    "next_speaker": "juror",
    "straw_vote": "poll",
    "close_straw_poll": "poll",
    "show_straw_poll": "poll",
    "amend_recommendation": "recommendation",
    "open_vote": "recommendation",
    "vote": "recommendation",
    "close_vote": "recommendation",
    "add_minority_report": "recommendation",
}
# Valid values for every other field: the rules in decide never turn on them.
_EXAMPLE: dict[str, Any] = {
    "phase": PHASES[0],
    "title": "-",
    "minutes": 1,
    "seconds": 1,
    "kind": "document",
    "text": "-",
    "question": "-",
    "options": ["1", "2"],
    "option": 0,
    "choice": CHOICES[0],
}

# Each command's fields, and those it may leave out, read once from its spec.
_FIELDS = {kind: tuple(spec.model_fields) for kind, (_, spec) in COMMANDS.items()}
_OPTIONAL = {
    kind: {name for name, field in spec.model_fields.items() if not field.is_required()}
    for kind, (_, spec) in COMMANDS.items()
}


def allowed(state: RoomState, actor: RoomActor, *, now: float) -> frozenset[Offer]:
    """What ``actor`` may send now, as ``decide`` answers it, so pages offer nothing it refuses.

    ``"start_session" in allowed(...)`` for a command about nothing in particular (``next_speaker``
    alone calls the first hand up); ``("start_timer", item_id) in allowed(...)`` for one about
    something. Each is asked of ``decide`` with example fields, so a command refused only for
    what is typed into it (an amendment that changes nothing, say) counts as allowed.
    """
    offers: set[Offer] = set()
    for offer, command in _probes(state):
        try:
            decide(state, actor, command, now=now)
        except CommandRefused:
            continue
        offers.add(offer)
    return frozenset(offers)


def _probes(s: RoomState) -> Iterator[tuple[Offer, dict[str, Any]]]:
    """Every command a page could offer in ``s``, each with valid fields for its spec."""
    about_what: dict[str, list[tuple[int | str, dict[str, Any]]]] = {
        "phase": [(p, {"phase": p}) for p in PHASES],
        "item": [(i.id, {"item": i.id}) for i in s.items],
        "juror": [(j, {"juror": j}) for j in s.jurors],
        "poll": [(p.id, {"poll": p.id}) for p in s.straw_polls],
        # An amendment must change the text.
        "recommendation": [
            (r.id, {"recommendation": r.id, "text": "-" if r.text != "-" else "--"})
            for r in s.recommendations
        ],
    }
    for kind, names in _FIELDS.items():
        about = _ABOUT.get(kind)
        if about is None or about in _OPTIONAL[kind]:
            yield kind, _command(kind, names, {})
        for target, fields in about_what[about] if about else []:
            yield (kind, target), _command(kind, names, fields)


def _command(kind: str, names: tuple[str, ...], fields: dict[str, Any]) -> dict[str, Any]:
    given = _EXAMPLE | fields
    return {"type": kind, **{name: given[name] for name in names if name in given}}
