"""What each audience of a jury room sees: the state and its events, as plain JSON.

A recommendation vote is secret unless it was opened as a named vote, and everyone sees which
kind it is before voting. In a secret vote nobody, not even the moderator, ever sees how a juror
voted: the server does not know it either (polls.domain.jury_room). In a named vote each juror's
name and vote are shown to everyone once it closes. While a vote is open everyone sees only how
many have voted, the moderator too (the console is often projected, and counts moving as each
juror taps would tell the room who voted how); the counts appear once the vote closes. Straw-poll
counts appear to the moderator once the poll closes and to everyone else once the moderator shows
them. The moderator also sees each juror's speaking time.
"""

from __future__ import annotations

from typing import Any

from polls.domain.jury_room import PHASES, Event, Recommendation, Role, RoomState, StrawPoll, passed


def project(event: Event, role: Role, juror_id: int | None = None) -> dict[str, Any]:
    """An event as ``role`` may see it: a vote names neither the juror nor the choice, except to
    the juror who cast it (a secret vote's event has no choice to show anyone)."""
    data = dict(event.data)
    if event.type in ("straw_vote_cast", "vote_cast", "juror_voted") and not (
        role is Role.JUROR and data["juror"] == juror_id
    ):
        data.pop("juror")
        data.pop({"straw_vote_cast": "option", "vote_cast": "choice"}.get(event.type, "choice"), None)
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
    if p.shown or (role is Role.MODERATOR and p.status == "closed"):
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
        "ballot": r.ballot,
        "voters": r.voted(),
    }
    if r.status == "closed":
        out["counts"] = r.counts()
        out["passed"] = passed(r, threshold)
        if not r.secret:
            out["named_votes"] = [
                {"juror": j, "name": r.names.get(j, ""), "choice": c} for j, c in sorted(r.ballots.items())
            ]
    if role is Role.JUROR and juror_id is not None:
        if r.secret:
            out["voted"] = juror_id in r.voters
        else:
            out["my_vote"] = r.ballots.get(juror_id)
    return out
