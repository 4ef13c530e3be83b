"""A jury session's public report: what observers may see, gathered for the page, JSON and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from polls.domain.jury_room import Role, RoomState
from polls.domain.jury_views import view

CSV_COLUMNS = ["section", "item", "text", "yes", "no", "abstain", "outcome"]


def report(
    state: RoomState, *, jury_title: str, session_title: str, profile: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """``profile`` is the panel against its quotas and pool (polls.domain.juries.profile_json).
    Only what the public may see: counts of closed votes, shown straw polls, never a juror's vote."""
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
                "text": r["text"],
                "amendments": len(r["amendments"]),
                "status": r["status"],
                "counts": r.get("counts"),
                "passed": r.get("passed"),
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
        for text in r["minority_reports"]:
            rows.append(["minority_report", r["number"], text, "", "", "", ""])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([[_safe(cell) for cell in row] for row in rows])
    return out.getvalue()


def _safe(cell: Any) -> Any:
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell
