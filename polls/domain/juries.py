"""Citizens' juries: what an officer sets up, the selection lifecycle, jurors' names, the panel's profile."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from polls.domain.sortition import Lottery, Pool, Quotas, read_categories, read_people, replacement
from polls.domain.sortition.csv_files import read_rows
from polls.domain.validation import StrictSpec
from polls.errors import ErrorCode, FieldError, PoolFileError, TransitionNotAllowed, ValidationFailed
from polls.i18n import N_


class JuryKind(StrEnum):
    JURY = "jury"
    ASSEMBLY = "assembly"


KIND_LABELS = {
    JuryKind.JURY: N_("Citizens' jury (12 to 24 people)"),
    JuryKind.ASSEMBLY: N_("Citizens' assembly"),
}
SIZES = {JuryKind.JURY: (12, 24), JuryKind.ASSEMBLY: (12, 150)}


class JuryStatus(StrEnum):
    SETTING_UP = "setting_up"  # pool and quotas being uploaded
    COMPUTED = "computed"  # lottery ready, not yet public
    PUBLISHED = "published"  # probabilities and seed commitment public
    DRAWN = "drawn"  # seed revealed; panel and reserves fixed
    INVITING = "inviting"  # invitations out
    IN_SESSION = "in_session"
    REPORTED = "reported"


STATUS_LABELS = {
    JuryStatus.SETTING_UP: N_("Setting up"),
    JuryStatus.COMPUTED: N_("Lottery computed"),
    JuryStatus.PUBLISHED: N_("Lottery published"),
    JuryStatus.DRAWN: N_("Panel drawn"),
    JuryStatus.INVITING: N_("Inviting jurors"),
    JuryStatus.IN_SESSION: N_("In session"),
    JuryStatus.REPORTED: N_("Reported"),
}
# Stages anyone may see: from publication on, the lottery is public.
PUBLIC = frozenset(JuryStatus) - {JuryStatus.SETTING_UP, JuryStatus.COMPUTED}
# Before publication the pool, quotas and size may change (a computed lottery is then discarded).
CHANGEABLE = frozenset({JuryStatus.SETTING_UP, JuryStatus.COMPUTED})


def require_status(status: str, allowed: frozenset[JuryStatus] | set[JuryStatus], doing: str) -> None:
    if status not in allowed:
        raise TransitionNotAllowed(
            f"You cannot {doing} while the jury is '{STATUS_LABELS[JuryStatus(status)]}'",
            code=ErrorCode.JURY_WRONG_STATUS,
        )


class JurorStatus(StrEnum):
    WAITING = "waiting"  # a reserve not yet asked
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


JUROR_STATUS_LABELS = {
    JurorStatus.WAITING: N_("Reserve, not asked"),
    JurorStatus.INVITED: N_("Invited"),
    JurorStatus.ACCEPTED: N_("Accepted"),
    JurorStatus.DECLINED: N_("Declined"),
    JurorStatus.WITHDRAWN: N_("Withdrawn"),
    JurorStatus.EXPIRED: N_("Invitation expired"),
}
# Jurors holding (or offered) a seat on the panel.
SEATED = frozenset({JurorStatus.INVITED, JurorStatus.ACCEPTED})


class JurySpec(StrictSpec):
    title: str = Field(min_length=3, max_length=200)
    remit: str = Field(min_length=10, max_length=2000)
    kind: JuryKind = JuryKind.JURY
    # Published in the API's schema; the exact range depends on the kind (SIZES), checked below.
    size: int = Field(
        json_schema_extra={
            "minimum": min(low for low, _ in SIZES.values()),
            "maximum": max(high for _, high in SIZES.values()),
            "description": "members: 12 to 24 for a jury, 12 to 150 for an assembly",
        }
    )
    threshold: int = Field(default=75, ge=51, le=100)
    households_apart: bool = False

    @model_validator(mode="after")
    def _size_fits_kind(self) -> JurySpec:
        low, high = SIZES[self.kind]
        if not low <= self.size <= high:
            what = "A citizens' jury" if self.kind is JuryKind.JURY else "A citizens' assembly"
            raise ValueError(f"{what} has {low} to {high} members")
        return self


class DrawSpec(StrictSpec):
    reserves: int = Field(default=0, ge=0, le=1000)
    # What each committed person reveals (dice), or the named lottery draw's numbers (one text).
    reveals: list[str] = Field(min_length=1, max_length=10)


# Letters (any script), spaces, hyphens, apostrophes and full stops: a first name or a nickname.
_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '’.-](?=[^\W\d_]))*\.?$")


def _display_name(value: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", value).split())
    if not 1 <= len(name) <= 30:
        raise ValueError("Enter a first name or nickname of 1 to 30 letters")
    if not _NAME.match(name):
        raise ValueError("Use letters, with spaces, hyphens or apostrophes between them (no numbers)")
    return name


DisplayName = Annotated[str, AfterValidator(_display_name)]


class AcceptSpec(StrictSpec):
    display_name: DisplayName


# The panel's profile


@dataclass(frozen=True)
class FeatureProfile:
    category: str
    feature: str
    min: int
    max: int
    pool: int  # pool members with the feature
    pool_share: float
    panel: int  # panel members with the feature
    panel_share: float

    @property
    def within_quota(self) -> bool:
        return self.min <= self.panel <= self.max


def panel_profile(
    quotas: Quotas, pool: Sequence[Mapping[str, str]], panel: Sequence[Mapping[str, str]]
) -> list[FeatureProfile]:
    """Each quota's feature: how many of the pool and of the panel have it, against its bounds.

    ``pool`` and ``panel`` are people's features (category -> feature); the panel is whoever the
    caller counts (as drawn, or who accepted).
    """

    def count(people: Sequence[Mapping[str, str]], category: str, feature: str) -> int:
        return sum(1 for p in people if p.get(category) == feature)

    def share(n: int, of: int) -> float:
        return n / of if of else 0.0

    out = []
    for q in quotas.quotas:
        in_pool, on_panel = count(pool, q.category, q.feature), count(panel, q.category, q.feature)
        out.append(
            FeatureProfile(
                q.category,
                q.feature,
                q.min,
                q.max,
                in_pool,
                share(in_pool, len(pool)),
                on_panel,
                share(on_panel, len(panel)),
            )
        )
    return out


def profile_json(profile: Sequence[FeatureProfile]) -> list[dict[str, Any]]:
    return [
        {
            "category": f.category,
            "feature": f.feature,
            "min": f.min,
            "max": f.max,
            "pool": f.pool,
            "pool_share": round(f.pool_share, 6),
            "panel": f.panel,
            "panel_share": round(f.panel_share, 6),
            "within_quota": f.within_quota,
        }
        for f in profile
    ]


# Replacing a juror who declines


@dataclass(frozen=True)
class Replacement:
    person: str
    meets_quotas: bool  # False: the closest fit, with the quota problems it leaves
    problems: tuple[str, ...] = ()


def choose_replacement(
    lottery: Lottery, panel: Sequence[str], leaving: str, reserves: Sequence[str]
) -> Replacement | None:
    """Who takes the seat ``leaving`` gives up: the first reserve in order that keeps every quota
    (``replacement``); failing that, the reserve leaving the fewest quota problems (earliest on a
    tie), so the seat is filled as fairly as the reserves allow. None when no reserve is left."""
    panel = list(panel)
    exact = replacement(lottery, panel, leaving, list(reserves))
    if exact is not None:
        return Replacement(exact, True)
    groups = lottery.groups
    of = {person: g for g, group in enumerate(groups.groups) for person in group.ids}
    base = [0] * len(groups)
    for person in panel:
        if person != leaving:
            base[of[person]] += 1
    best: Replacement | None = None
    for person in reserves:
        if person in panel or person == leaving:
            continue
        counts = list(base)
        counts[of[person]] += 1
        problems = tuple(groups.problems(tuple(counts), sum(counts)))
        if best is None or len(problems) < len(best.problems):
            best = Replacement(person, False, problems)
    return best


# Reading the uploaded pool

MAX_REPORTED = 50  # problems listed at once; past that the file needs fixing wholesale anyway
MAX_ID = 64  # characters in a pool member's id (what the database keeps)


def read_pool_files(
    people: str,
    categories: str,
    *,
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
) -> Pool:
    """The pool from the two CSV files, or ValidationFailed listing every bad line (up to 50).

    The sortition reader stops at a file's first problem; here each person's row is read on its
    own as well, so an officer fixing a spreadsheet sees all the lines to fix in one go.
    """
    try:
        quotas = read_categories(categories, file="categories file")
    except PoolFileError as first:
        problems = _every_bad_category(categories, first)
        message = f"The categories file has {len(problems)} line{'s' if len(problems) != 1 else ''} to fix"
        errors = [_line_error("categories", p) for p in problems[:MAX_REPORTED]]
        raise ValidationFailed(errors, message, code=first.code) from None
    try:
        pool = read_people(
            people, quotas, file="people file", id_column=id_column, household_columns=household_columns
        )
        if any(len(p.id) > MAX_ID for p in pool.people):
            raise PoolFileError("people file", None, f"an id is longer than {MAX_ID} characters")
        return pool
    except PoolFileError as first:
        problems = _every_bad_row(people, quotas, id_column, household_columns) or [first]
        errors = [_line_error("people", p) for p in problems[:MAX_REPORTED]]
        more = len(problems) - len(errors)
        if more > 0:
            errors.append(FieldError("people", f"and {more} more lines with problems"))
        message = f"The people file has {len(problems)} line{'s' if len(problems) != 1 else ''} to fix"
        raise ValidationFailed(errors, message, code=first.code) from None


def _every_bad_category(text: str, first: PoolFileError) -> list[PoolFileError]:
    """Each bad line of the categories file, read one at a time under the header (a whole-file
    problem, such as a missing column, stays the one problem)."""
    if first.line is None or first.line == 1:
        return [first]
    try:
        rows = list(read_rows(text, "categories file"))
    except PoolFileError:  # a row the csv module gave up on: nothing after it can be read
        return [first]
    header = rows[0][1]
    problems: list[PoolFileError] = []
    for line, row in rows[1:]:
        one = io.StringIO()
        csv.writer(one).writerows([header, row])
        try:
            read_categories(one.getvalue(), file="categories file")
        except PoolFileError as exc:
            problems.append(PoolFileError("categories file", line, exc.problem))
    bad = {p.line for p in problems}
    rest = io.StringIO()
    csv.writer(rest).writerows([header] + [row for line, row in rows[1:] if line not in bad])
    try:  # what only shows across lines: a feature listed twice
        read_categories(rest.getvalue(), file="categories file")
    except PoolFileError as exc:
        if exc.line is not None and exc.line > 1:
            kept = [line for line, _ in rows[1:] if line not in bad]
            # Line numbers back as in the officer's file (the read above skipped the bad ones).
            problem = re.sub(r"line (\d+)", lambda m: f"line {kept[int(m.group(1)) - 2]}", exc.problem)
            problems.append(PoolFileError("categories file", kept[exc.line - 2], problem))
    return sorted(problems, key=lambda p: p.line or 0) or [first]


def _line_error(field: str, exc: PoolFileError) -> FieldError:
    where = f"line {exc.line}: " if exc.line is not None else ""
    return FieldError(field, where + exc.problem)


def _every_bad_row(
    text: str, quotas: Quotas, id_column: str | None, household_columns: Sequence[str]
) -> list[PoolFileError]:
    rows: list[tuple[int, list[str]]] = []
    unreadable: list[PoolFileError] = []  # the row the csv module gave up on; nothing after it is read
    try:
        rows.extend(read_rows(text, "people file"))
    except PoolFileError as exc:
        unreadable.append(exc)
    if not rows:
        return unreadable
    header_line, header = rows[0]
    problems: list[PoolFileError] = []
    seen: dict[str, int] = {}
    for line, row in rows[1:]:
        one = io.StringIO()
        csv.writer(one).writerows([header, row])
        try:
            person = read_people(
                one.getvalue(), quotas, id_column=id_column, household_columns=household_columns
            ).people[0]
        except PoolFileError as exc:
            if exc.line == 1:  # the header itself: one problem for the whole file
                return [PoolFileError("people file", header_line, exc.problem)]
            problems.append(PoolFileError("people file", line, exc.problem))
            continue
        if len(person.id) > MAX_ID:
            problems.append(PoolFileError("people file", line, f"the id is longer than {MAX_ID} characters"))
        elif person.id in seen:
            problems.append(
                PoolFileError(
                    "people file", line, f"id '{person.id}' is used twice (also on line {seen[person.id]})"
                )
            )
        else:
            seen[person.id] = line
    return problems + unreadable
