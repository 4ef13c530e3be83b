"""A jury's public report: what observers may see of one session (``report``) or of all a jury's
sessions together (``jury_report``), gathered for the page, JSON and CSV; and the council's
response to each recommendation the jury voted on, checked before the report is published."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import field_validator

from polls.domain.jury_room import Role, RoomState
from polls.domain.jury_views import view
from polls.domain.spreadsheets import spreadsheet_safe
from polls.domain.validation import StrictSpec
from polls.errors import Conflict, ErrorCode
from polls.i18n import N_

CSV_COLUMNS = ["section", "item", "text", "yes", "no", "abstain", "outcome"]


def report(
    state: RoomState, *, jury_title: str, session_title: str, profile: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """``profile`` is the panel against its quotas and pool (polls.domain.juries.profile_json).
    Only what the public may see: counts of closed votes, shown straw polls, and jurors' names with
    their votes only for votes opened as named (open) votes."""
    public = view(state, Role.OBSERVER)
    return {
        "jury": jury_title,
        "session": session_title,
        "status": public["status"],
        "remit": public["remit"],
        "threshold": public["threshold"],
        "profile": list(profile),
        "agenda": [
            {"phase": i["phase"], "title": i["title"], "minutes": round(i["duration"] / 60, 1)}
            for i in public["items"]
        ],
        "evidence": [
            {k: e[k] for k in ("kind", "title", "text", "url", "witness")} for e in public["evidence"]
        ],
        "straw_polls": [
            {"question": p["question"], "options": dict(zip(p["options"], p["counts"], strict=True))}
            for p in public["straw_polls"]
            if p["shown"]
        ],
        "recommendations": [
            {
                "number": n,
                "id": r["id"],
                "text": r["text"],
                "amendments": len(r["amendments"]),
                "status": r["status"],
                "ballot": r["ballot"],
                "counts": r.get("counts"),
                "passed": r.get("passed"),
                "named_votes": [{"name": v["name"], "choice": v["choice"]} for v in r.get("named_votes", [])],
                "minority_reports": [
                    m["text"] for m in public["minority_reports"] if m["recommendation"] == r["id"]
                ],
            }
            for n, r in enumerate(public["recommendations"], start=1)
        ],
    }


def _outcome(rec: dict[str, Any], threshold: int) -> str:
    if rec["passed"] is None:
        return "not voted on" if rec["status"] == "draft" else "vote open"
    return f"{'passed' if rec['passed'] else 'not passed'} (threshold {threshold}%)"


def report_csv(data: dict[str, Any]) -> str:
    """One row per fact, in the CSV_COLUMNS; spreadsheet-safe (cells never start with = + - @)."""
    rows: list[list[Any]] = [
        ["jury", data["jury"], data["session"], "", "", "", data["status"]],
        ["remit", "", data["remit"], "", "", "", f"threshold {data['threshold']}%"],
    ]
    for f in data["profile"]:
        text = (
            f"panel {f['panel']} ({f['panel_share']:.1%}); pool {f['pool']} ({f['pool_share']:.1%}); "
            f"quota {f['min']} to {f['max']}"
        )
        rows.append(
            [
                "profile",
                f"{f['category']}: {f['feature']}",
                text,
                "",
                "",
                "",
                "within quota" if f["within_quota"] else "outside quota",
            ]
        )
    for item in data["agenda"]:
        rows.append(
            ["agenda", f"{item['phase']}: {item['title']}", f"{item['minutes']} minutes", "", "", "", ""]
        )
    for e in data["evidence"]:
        source = e["url"] or ""
        by = f"witness: {e['witness']}" if e["witness"] else e["kind"]
        rows.append(["evidence", e["title"], " ".join(x for x in (e["text"], source) if x), "", "", "", by])
    for p in data["straw_polls"]:
        for option, n in p["options"].items():
            rows.append(["straw_poll", p["question"], option, n, "", "", ""])
    for r in data["recommendations"]:
        counts = r["counts"] or {}
        rows.append(
            [
                "recommendation",
                r["number"],
                r["text"],
                counts.get("yes", ""),
                counts.get("no", ""),
                counts.get("abstain", ""),
                _outcome(r, data["threshold"]),
            ]
        )
        for vote in r["named_votes"]:
            rows.append(["named_vote", r["number"], vote["name"], "", "", "", vote["choice"]])
        for text in r["minority_reports"]:
            rows.append(["minority_report", r["number"], text, "", "", "", ""])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])
    return out.getvalue()


# A jury's report: every session, and the council's response -----------------------------------


class Decision(StrEnum):
    ACCEPTED = "accepted"
    IN_PART = "in_part"
    NOT_ACCEPTED = "not_accepted"
    CONSIDERING = "considering"


DECISION_LABELS = {
    Decision.ACCEPTED: N_("Accepted"),
    Decision.IN_PART: N_("Accepted in part"),
    Decision.NOT_ACCEPTED: N_("Not accepted"),
    Decision.CONSIDERING: N_("Still being considered"),
}
EXPLANATION_MAX = 5000


class JuryResponseSpec(StrictSpec):
    """The council's response to one recommendation: a decision, and why, in plain words."""

    decision: str
    explanation: str

    @field_validator("decision")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in Decision.__members__.values():
            raise ValueError(
                "Choose the council's decision: accepted, accepted in part, not accepted "
                "or still being considered"
            )
        return value

    @field_validator("explanation")
    @classmethod
    def _explained(cls, value: str) -> str:
        if not value:
            raise ValueError("Explain the council's decision to the jury and the public")
        if len(value) > EXPLANATION_MAX:
            raise ValueError(f"Enter at most {EXPLANATION_MAX} characters")
        return value


@dataclass(frozen=True)
class SessionLog:
    """One of the jury's sessions, its state folded from its whole log."""

    id: int
    title: str
    state: RoomState


@dataclass(frozen=True)
class Response:
    decision: str
    explanation: str

    def as_json(self) -> dict[str, str]:
        label = DECISION_LABELS[Decision(self.decision)]
        return {"decision": self.decision, "decision_label": label, "explanation": self.explanation}


Key = tuple[int, int]  # (session id, the recommendation's id in that session's room)


def jury_report(
    sessions: Sequence[SessionLog],
    *,
    jury_title: str,
    remit: str,
    threshold: int,
    profile: Sequence[dict[str, Any]],
    responses: Mapping[Key, Response],
) -> dict[str, Any]:
    """Every session's public report in session order, recommendations numbered across the jury,
    each voted one with the council's response (None until written)."""
    out: dict[str, Any] = {
        "jury": jury_title,
        "remit": remit,
        "threshold": threshold,
        "profile": list(profile),
        "sessions": [],
        "agenda": [],
        "evidence": [],
        "straw_polls": [],
        "recommendations": [],
    }
    for s in sessions:
        part = report(s.state, jury_title=jury_title, session_title=s.title, profile=())
        out["sessions"].append({"id": s.id, "title": s.title, "status": part["status"]})
        for key in ("agenda", "evidence", "straw_polls"):
            out[key] += [{"session": s.title, **entry} for entry in part[key]]
        for r in part["recommendations"]:
            found = responses.get((s.id, r["id"]))
            voted = r["status"] == "closed"
            out["recommendations"].append(
                {
                    **r,
                    "number": len(out["recommendations"]) + 1,
                    "session_id": s.id,
                    "session": s.title,
                    "response": found.as_json() if found and voted else None,
                }
            )
    return out


def voted(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recommendations whose vote has closed: the ones the council answers."""
    return [r for r in data["recommendations"] if r["status"] == "closed"]


def check_publishable(data: Mapping[str, Any]) -> None:
    """A report is published once every session has ended, the jury voted on at least one
    recommendation, and the council answered every recommendation voted on."""
    for s in data["sessions"]:
        if s["status"] != "ended":
            raise Conflict(
                f"The session \u201c{s['title']}\u201d has not ended: end it in its room first",
                code=ErrorCode.SESSION_NOT_ENDED,
            )
    answered = voted(data)
    if not answered:
        raise Conflict(
            "The jury has not voted on any recommendation yet, so there is nothing to report",
            code=ErrorCode.NOTHING_VOTED,
        )
    missing = [str(r["number"]) for r in answered if r["response"] is None]
    if missing:
        which = ", ".join(missing)
        raise Conflict(
            f"Write the council's response to recommendation {which} before publishing",
            code=ErrorCode.RESPONSE_MISSING,
        )


JURY_CSV_COLUMNS = [
    "section",
    "session",
    "item",
    "text",
    "yes",
    "no",
    "abstain",
    "outcome",
    "council_decision",
    "council_explanation",
]


def jury_report_csv(data: Mapping[str, Any]) -> str:
    """One row per fact, in the JURY_CSV_COLUMNS; spreadsheet-safe like ``report_csv``."""
    rows: list[list[Any]] = [
        ["jury", "", data["jury"], data["remit"], "", "", "", f"threshold {data['threshold']}%"],
    ]
    for f in data["profile"]:
        text = (
            f"panel {f['panel']} ({f['panel_share']:.1%}); pool {f['pool']} ({f['pool_share']:.1%}); "
            f"quota {f['min']} to {f['max']}"
        )
        outcome = "within quota" if f["within_quota"] else "outside quota"
        rows.append(["profile", "", f"{f['category']}: {f['feature']}", text, "", "", "", outcome])
    for s in data["sessions"]:
        rows.append(["session", s["title"], s["id"], "", "", "", "", s["status"]])
    for i in data["agenda"]:
        rows.append(["agenda", i["session"], f"{i['phase']}: {i['title']}", f"{i['minutes']} minutes"])
    for e in data["evidence"]:
        by = f"witness: {e['witness']}" if e["witness"] else e["kind"]
        text = " ".join(x for x in (e["text"], e["url"] or "") if x)
        rows.append(["evidence", e["session"], e["title"], text, "", "", "", by])
    for p in data["straw_polls"]:
        for option, n in p["options"].items():
            rows.append(["straw_poll", p["session"], p["question"], option, n])
    for r in data["recommendations"]:
        counts, response = r["counts"] or {}, r["response"] or {}
        rows.append(
            [
                "recommendation",
                r["session"],
                r["number"],
                r["text"],
                counts.get("yes", ""),
                counts.get("no", ""),
                counts.get("abstain", ""),
                _outcome(r, data["threshold"]),
                response.get("decision_label", ""),
                response.get("explanation", ""),
            ]
        )
        for vote in r["named_votes"]:
            rows.append(["named_vote", r["session"], r["number"], vote["name"], "", "", "", vote["choice"]])
        for text in r["minority_reports"]:
            rows.append(["minority_report", r["session"], r["number"], text])
    for f in data.get("follow_ups", []):
        rows.append(
            ["follow_up", "", f["milestone_on"], f"{f['title']}: {f['body']}", "", "", "", f["status"] or ""]
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(JURY_CSV_COLUMNS)
    width = len(JURY_CSV_COLUMNS)
    writer.writerows([[spreadsheet_safe(cell) for cell in row] + [""] * (width - len(row)) for row in rows])
    return out.getvalue()
