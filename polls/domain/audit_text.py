"""Audit entries in plain words, for the audit log page and `polls audit show`."""

from __future__ import annotations

from typing import Any


def _ballots(n: Any) -> str:
    return f"{n} paper ballot" + ("" if n == 1 else "s")


def _paper(action: str, poll: str, after: dict[str, Any]) -> str | None:
    if action == "paper.enter":
        text = f"entered {_ballots(after.get('ballots'))} in {poll}"
        if after.get("held"):
            text += f", held as batch {after.get('batch')} for a second officer"
        if after.get("refused"):
            text += f" ({after['refused']} refused: code already used)"
        return text
    if action == "paper.confirm":
        return (
            f"confirmed paper batch {after.get('batch')} in {poll}: {_ballots(after.get('ballots'))} "
            f"entered by {after.get('entered_by')} now counted"
        )
    if action == "paper.reject":
        return (
            f"rejected paper batch {after.get('batch')} in {poll} ({_ballots(after.get('ballots'))} "
            f"entered by {after.get('entered_by')}): {after.get('reason')}"
        )
    return None


def _codes(action: str, target: str, after: dict[str, Any]) -> str | None:
    if action == "codes.issue":
        area, batch = after.get("area"), after.get("batch_id")
        return f"issued {after.get('count')} poll-card codes for area {area} (batch {batch})"
    if action == "code.event_issue":
        return f"handed out an event code for {target.replace(':', ' ')} (batch {after.get('batch_id')})"
    if action == "code.reissue":
        return f"issued a replacement card for {target.replace(':', ' ')} (batch {after.get('batch_id')})"
    if action == "code.revoke":
        return f"cancelled {target.replace(':', ' ')}"
    return None


def _messages(action: str, target: str, after: dict[str, Any]) -> str | None:
    if action == "juror.invitation.send":
        by = "email" if after.get("by") == "email" else "text message"
        return f"sent juror {after.get('juror')}'s invitation by {by}"
    if action == "jury_session.reminders":
        session = target.replace("jury_session:", "jury session ")
        return f"sent {after.get('sent')} jurors a reminder of {session}"
    if action == "message.retry":
        return f"sent {target.replace(':', ' ')} ({str(after.get('purpose', '')).replace('_', ' ')}) again"
    return None


def describe(action: str, target: str, after: Any) -> str:
    """One line saying what happened; entries of other kinds read as their action and target."""
    details = after if isinstance(after, dict) else {}
    poll = target.replace("poll:", "poll ")
    text = (
        _paper(action, poll, details) or _codes(action, target, details) or _messages(action, target, details)
    )
    return text or f"{action} {target}"
