"""Reading what residents wrote: the responses of a closed poll's free-text questions, tagged by
analysts with the pilot's themes, some marked as quotes for the report.

A response is a reviewed comment (polls.domain.comment_review), known by its number; withheld
ones take no part in the analysis (no counts, no quotes, no suggestions, no download). Each analyst
keeps their own tags, so two analysts who read the same response can see where they disagree.
Counts by area and channel hide cells of fewer than the poll's k responses, so an analyst cannot
learn where one resident's words came from by tagging them alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from polls.domain.comment_review import CommentStatus
from polls.domain.validation import StrictSpec
from polls.errors import Conflict, ErrorCode

CHANNEL_LABELS = {"online": "Online", "event": "At an event", "paper": "Paper"}
NO_AREA = "No area recorded"


class ThemeSpec(StrictSpec):
    """A theme in the pilot's list: a short name, and what it covers."""

    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)

    @field_validator("name")
    @classmethod
    def _name_has_words(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("Give the theme a name")
        return value


class ThemeChangeSpec(ThemeSpec):
    """A theme renamed or re-described; ``confirm`` once asked, when tags use it."""

    confirm: bool = False


class SuggestSpec(StrictSpec):
    """How many groups of similar responses to look for at most."""

    groups: int = Field(default=8, ge=2, le=20)


class SuggestionDecision(StrEnum):
    ACCEPT = "accept"
    RENAME = "rename"
    REJECT = "reject"


class SuggestionDecisionSpec(StrictSpec):
    """Accept a suggested theme (under its label or ``name``), rename it, or reject it."""

    decision: SuggestionDecision
    name: str | None = Field(default=None, min_length=1, max_length=80)

    @model_validator(mode="after")
    def _rename_names(self) -> SuggestionDecisionSpec:
        if self.decision is SuggestionDecision.RENAME and not self.name:
            raise ValueError("Give the new name")
        if self.decision is SuggestionDecision.REJECT and self.name:
            raise ValueError("A rejected suggestion needs no name")
        return self


class TagsSpec(StrictSpec):
    """One analyst's reading of one response: the themes it raises, and whether to quote it."""

    themes: list[int] = Field(default_factory=list, max_length=50)
    quote: bool = False

    @field_validator("themes")
    @classmethod
    def _each_once(cls, value: list[int]) -> list[int]:
        return sorted(set(value))


@dataclass(frozen=True)
class Response:
    number: int
    question_id: int
    text: str
    status: str
    reason: str | None
    area_id: int | None = None
    channel: str | None = None

    @property
    def withheld(self) -> bool:
        return self.status == CommentStatus.WITHHELD.value


def responses(comments: Sequence[Mapping[str, Any]], origins: Sequence[Sequence[Any]]) -> list[Response]:
    """Every comment as a response, numbered as on the review page; ``origins`` holds each one's
    [area id, channel] (empty for polls counted before they were kept)."""
    out = []
    for number, c in enumerate(comments, start=1):
        area, channel = origins[number - 1] if number <= len(origins) else (None, None)
        out.append(
            Response(number, int(c["question_id"]), str(c["text"]), c["status"], c["reason"], area, channel)
        )
    return out


def analysed(items: Iterable[Response]) -> list[Response]:
    """The responses the analysis uses: all but the withheld."""
    return [r for r in items if not r.withheld]


@dataclass
class Reading:
    """Who tagged one response with what, and where they differ."""

    by_analyst: dict[str, set[int]] = field(default_factory=dict)

    @property
    def themes(self) -> set[int]:
        return set().union(*self.by_analyst.values()) if self.by_analyst else set()

    @property
    def disputed(self) -> set[int]:
        """Themes some analysts who read the response gave it and others did not."""
        if len(self.by_analyst) < 2:
            return set()
        shared = set.intersection(*self.by_analyst.values())
        return self.themes - shared


def readings(tags: Iterable[tuple[int, str, int]]) -> dict[int, Reading]:
    """(response number, analyst, theme id) rows grouped per response."""
    out: dict[int, Reading] = {}
    for number, analyst, theme in tags:
        out.setdefault(number, Reading()).by_analyst.setdefault(analyst, set()).add(theme)
    return out


@dataclass(frozen=True)
class ThemeCount:
    theme_id: int
    name: str
    total: int
    by_area: dict[str, int | None]  # None: fewer than k, not shown
    by_channel: dict[str, int | None]


def _shown(count: int, k: int) -> int | None:
    return None if 0 < count < k else count


def theme_counts(
    items: Sequence[Response],
    read: Mapping[int, Reading],
    themes: Mapping[int, str],
    areas: Mapping[int, str],
    k: int,
) -> list[ThemeCount]:
    """How many responses raise each theme (tagged by any analyst), in total and by area and
    channel; most raised first. Cells of 1 to k-1 responses are hidden."""
    area_names = sorted({_area(r, areas) for r in items})
    out = []
    for theme_id, name in themes.items():
        raised = [r for r in items if theme_id in read.get(r.number, Reading()).themes]
        by_area = Counter(_area(r, areas) for r in raised)
        by_channel = Counter(r.channel or "unknown" for r in raised)
        out.append(
            ThemeCount(
                theme_id,
                name,
                len(raised),
                {a: _shown(by_area.get(a, 0), k) for a in area_names},
                {c: _shown(n, k) for c, n in sorted(by_channel.items())},
            )
        )
    return sorted(out, key=lambda t: (-t.total, t.name.lower()))


def _area(r: Response, areas: Mapping[int, str]) -> str:
    return areas.get(r.area_id, NO_AREA) if r.area_id is not None else NO_AREA


def require_confirmed(tags: int, confirmed: bool, change: str) -> None:
    """A change to a theme that existing tags use waits for the officer to confirm it."""
    if tags and not confirmed:
        raise Conflict(
            f"{tags} tag{'s use' if tags != 1 else ' uses'} this theme: confirm to {change} it",
            code=ErrorCode.THEME_IN_USE,
        )


def require_responses(items: Sequence[Response]) -> None:
    if not items:
        raise Conflict(
            "This poll has no written responses to analyse (or every one is withheld)",
            code=ErrorCode.NO_RESPONSES,
        )
