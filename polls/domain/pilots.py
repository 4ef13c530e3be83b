"""Pilots, their areas and their staff roles: what a valid one looks like."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, HttpUrl, ValidationError, model_validator

from polls.domain.validation import StrictSpec, field_errors
from polls.errors import FieldError
from polls.i18n import N_

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
AREA_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
# A full postcode ("SW1A 1AA"), a sector ("SW1A 1") or a district ("SW1A").
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( [0-9]([A-Z]{2})?)?$")


class Role(StrEnum):
    COUNCIL_ADMIN = "council_admin"  # everything in the pilot
    MODERATOR = "moderator"  # runs juries
    ANALYST = "analyst"  # reads results and exports; analyses what residents wrote


ROLE_LABELS = {
    Role.COUNCIL_ADMIN: N_("Council admin"),
    Role.MODERATOR: N_("Moderator"),
    Role.ANALYST: N_("Analyst"),
}


def _languages(value: list[str]) -> list[str]:
    seen: list[str] = []
    for code in value:
        if not LANGUAGE.match(code):
            raise ValueError(f"'{code}' is not a language code such as en, cy or gd")
        if code not in seen:
            seen.append(code)
    if not seen:
        raise ValueError("Offer at least one language")
    return seen


def normalise_postcode(raw: str) -> str:
    """Upper-case and put the single space where it belongs ("sw1a1aa" -> "SW1A 1AA")."""
    compact = re.sub(r"\s+", "", raw.upper())
    if len(compact) >= 5 and compact[-3].isdigit() and compact[-2:].isalpha():
        return f"{compact[:-3]} {compact[-3:]}"
    return " ".join(raw.upper().split())


def _postcodes(value: list[str]) -> list[str]:
    out: list[str] = []
    for raw in value:
        code = normalise_postcode(raw)
        if not code:
            continue
        if not POSTCODE.match(code):
            raise ValueError(f"'{raw}' is not a postcode, postcode sector or district")
        if code not in out:
            out.append(code)
    return out


def _area_code(value: str) -> str:
    if not AREA_CODE.match(value):
        raise ValueError("Use up to 20 letters, digits, - or _ (for example an ONS ward code)")
    return value


class PilotSpec(StrictSpec):
    name: str = Field(min_length=3, max_length=120)
    region: str = Field(min_length=2, max_length=120)
    council: str = Field(min_length=2, max_length=160)
    languages: Annotated[list[str], AfterValidator(_languages)] = ["en"]
    starts_on: date
    ends_on: date
    contact_email: EmailStr
    contact_phone: str = Field(default="", max_length=40)
    accessibility_url: HttpUrl | None = None
    # The statement itself, in plain words, shown on the pilot's public page.
    accessibility_statement: str = Field(default="", max_length=5000)
    # Two-person rule for paper ballots: one officer enters a batch, a different one confirms it.
    paper_second_officer: bool = False

    @model_validator(mode="after")
    def _dates_in_order(self) -> PilotSpec:
        if self.ends_on < self.starts_on:
            raise ValueError("The end date must be on or after the start date")
        return self


class AreaSpec(StrictSpec):
    name: str = Field(min_length=2, max_length=120)
    # The pattern is published in the API's schema; the validator gives the plain-language message.
    code: Annotated[
        str,
        AfterValidator(_area_code),
        Field(json_schema_extra={"pattern": AREA_CODE.pattern, "maxLength": 20}),
    ]
    postcodes: Annotated[list[str], AfterValidator(_postcodes)] = []


class StaffRoleSpec(StrictSpec):
    email: EmailStr
    role: Role


@dataclass(frozen=True)
class RowError:
    line: int  # line number in the uploaded file, header is line 1
    field: str
    message: str


@dataclass(frozen=True)
class AreaImport:
    rows: list[tuple[int, AreaSpec]]  # (line number, area) for every good row
    errors: list[RowError]


class _NumberedLines:
    """Feeds csv the text line by line, remembering which lines each record used."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)
        self._used: list[tuple[int, str]] = []

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(self._lines, start=1):
            self._used.append((number, line))
            yield line

    def take(self) -> int:
        """The first non-blank line used since the last call (csv skips blank lines)."""
        used, self._used = self._used, []
        return next((n for n, line in used if line.strip()), used[0][0] if used else 1)


def parse_area_csv(text: str) -> AreaImport:
    """Read areas from CSV with columns name, code, postcodes (postcodes split by ; , or |).

    Every row is checked; the result lists good areas and a report of bad rows with line
    numbers, so the officer can fix the file and upload it again.
    """
    lines = _NumberedLines(text.lstrip("\ufeff"))
    reader = csv.DictReader(lines)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [h for h in ("name", "code") if h not in header]
    if missing:
        return AreaImport([], [RowError(1, "header", "Missing column: " + ", ".join(missing))])
    reader.fieldnames = header
    rows: list[tuple[int, AreaSpec]] = []
    errors: list[RowError] = []
    seen_codes: dict[str, int] = {}
    lines.take()
    for row in reader:
        line = lines.take()  # where the row starts, even when a quoted cell spans lines
        if None in row:
            errors.append(RowError(line, "row", "This row has more columns than the header"))
            continue
        raw_postcodes = re.split(r"[;,|]", row.get("postcodes") or "")
        try:
            area = AreaSpec.model_validate(
                {
                    "name": row.get("name") or "",
                    "code": (row.get("code") or "").strip(),
                    "postcodes": [p for p in raw_postcodes if p.strip()],
                }
            )
        except ValidationError as exc:
            errors.extend(RowError(line, e.field, e.message) for e in field_errors(exc))
            continue
        if area.code in seen_codes:
            errors.append(
                RowError(
                    line,
                    "code",
                    f"Code {area.code} is already used on line {seen_codes[area.code]}",
                )
            )
            continue
        seen_codes[area.code] = line
        rows.append((line, area))
    if not rows and not errors:
        errors.append(RowError(1, "file", "The file has no rows"))
    return AreaImport(rows, errors)


def row_errors_as_field_errors(errors: list[RowError]) -> list[FieldError]:
    return [FieldError(f"line {e.line}.{e.field}", e.message) for e in errors]
