"""The final report of a poll ("you said, we did"): the officers' summary, the themes residents
raised with how many raised each and the quotes chosen for them, and the download of the
responses with their themes for the council's own analysis.

Only published words reach the report: a quote is shown once its comment was published as
written, and withheld responses are never counted, quoted or downloaded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import Field

from polls.domain.analysis import Reading, Response, analysed
from polls.domain.comment_review import STATUS_LABELS, CommentStatus
from polls.domain.spreadsheets import spreadsheet_safe as safe
from polls.domain.validation import StrictSpec

OTHER_QUOTES = "Other things residents said"


class SummarySpec(StrictSpec):
    """The report's opening text, in the council's words."""

    summary: str = Field(default="", max_length=10_000)


@dataclass(frozen=True)
class ReportTheme:
    name: str
    responses: int
    quotes: tuple[str, ...]


def themes(
    items: Sequence[Response],
    read: Mapping[int, Reading],
    names: Mapping[int, str],
    quoted: set[int],
) -> list[ReportTheme]:
    """Each theme any response raised, most raised first, with the published quotes tagged with
    it; quotes tagged with no theme come last, under OTHER_QUOTES."""
    kept = analysed(items)
    quotes = [r for r in kept if r.number in quoted and r.status == CommentStatus.PUBLISHED.value]
    out = []
    for theme_id, name in names.items():
        raised = [r for r in kept if theme_id in read.get(r.number, Reading()).themes]
        if raised:
            mine = tuple(q.text for q in quotes if theme_id in read.get(q.number, Reading()).themes)
            out.append(ReportTheme(name, len(raised), mine))
    out.sort(key=lambda t: (-t.responses, t.name.lower()))
    loose = tuple(q.text for q in quotes if not read.get(q.number, Reading()).themes)
    if loose:
        out.append(ReportTheme(OTHER_QUOTES, 0, loose))
    return out


CSV_HEADER = ("response", "question", "text", "review", "themes", "quoted")


def responses_csv(
    items: Sequence[Response],
    read: Mapping[int, Reading],
    names: Mapping[int, str],
    quoted: set[int],
    titles: Mapping[int, str],
) -> str:
    """Every response not withheld, with the themes any analyst gave it (";"-separated). The
    words are residents' and the names officers': none is ever read as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in analysed(items):
        given = sorted(names[t] for t in read.get(r.number, Reading()).themes if t in names)
        writer.writerow(
            (
                r.number,
                safe(titles.get(r.question_id, "")),
                safe(r.text),
                STATUS_LABELS[CommentStatus(r.status)],
                safe("; ".join(given)),
                "yes" if r.number in quoted else "",
            )
        )
    return out.getvalue()
