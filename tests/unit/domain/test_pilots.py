"""Pilot, area and staff specs, postcode normalisation and the area CSV import."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from polls.domain.pilots import (
    AreaSpec,
    PilotSpec,
    Role,
    RowError,
    StaffRoleSpec,
    normalise_postcode,
    parse_area_csv,
    row_errors_as_field_errors,
)
from polls.domain.validation import parse
from polls.errors import FieldError, ValidationFailed

PILOT = {
    "name": "Northshire Democracy Pilot",
    "region": "North East",
    "council": "Northshire County Council",
    "starts_on": "2026-01-05",
    "ends_on": "2026-06-30",
    "contact_email": "democracy@northshire.example",
}
AREA_CODE_HELP = "Use up to 20 letters, digits, - or _ (for example an ONS ward code)"


def pilot(**changes: Any) -> PilotSpec:
    return parse(PilotSpec, {**PILOT, **changes})


def pilot_refusal(**changes: Any) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as caught:
        pilot(**changes)
    return caught.value.errors


def area(*postcodes: str, code: str = "E05000001") -> AreaSpec:
    return parse(AreaSpec, {"name": "Riverside Ward", "code": code, "postcodes": list(postcodes)})


def area_refusal(*postcodes: str, code: str = "E05000001") -> list[FieldError]:
    with pytest.raises(ValidationFailed) as caught:
        area(*postcodes, code=code)
    return caught.value.errors


# PilotSpec


def test_pilot_defaults_to_english_without_phone_or_accessibility_page() -> None:
    spec = pilot()
    assert spec.languages == ["en"]
    assert (spec.contact_phone, spec.accessibility_url) == ("", None)
    assert (spec.starts_on, spec.ends_on) == (date(2026, 1, 5), date(2026, 6, 30))


def test_pilot_may_start_and_end_on_the_same_day() -> None:
    assert pilot(ends_on="2026-01-05").ends_on == date(2026, 1, 5)


def test_pilot_cannot_end_before_it_starts() -> None:
    assert pilot_refusal(ends_on="2026-01-04") == [
        FieldError("__root__", "The end date must be on or after the start date")
    ]


@pytest.mark.parametrize("value", ["05/01/2026", "2026-13-01", "next monday"])
def test_pilot_date_not_in_iso_form_is_refused(value: str) -> None:
    assert pilot_refusal(starts_on=value) == [FieldError("starts_on", "Enter a date as YYYY-MM-DD")]


def test_pilot_without_required_fields_lists_each_one() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(PilotSpec, {})
    assert {e.field for e in caught.value.errors} == {
        "name",
        "region",
        "council",
        "starts_on",
        "ends_on",
        "contact_email",
    }
    assert {e.message for e in caught.value.errors} == {"This field is required"}


def test_pilot_name_is_trimmed_before_its_length_is_checked() -> None:
    assert pilot(name="  Tyneside  ").name == "Tyneside"
    assert pilot_refusal(name="  NE  ") == [FieldError("name", "Enter at least 3 characters")]


def test_pilot_with_unknown_field_is_refused() -> None:
    assert pilot_refusal(budget=100) == [FieldError("budget", "This field is not recognised")]


def test_pilot_languages_keep_their_order_and_drop_repeats() -> None:
    assert pilot(languages=["cy", "en", "cy", "en-GB", "en"]).languages == ["cy", "en", "en-GB"]


def test_pilot_accepts_three_letter_language_codes() -> None:
    assert pilot(languages=["sco"]).languages == ["sco"]


def test_pilot_must_offer_a_language() -> None:
    assert pilot_refusal(languages=[]) == [FieldError("languages", "Offer at least one language")]


@pytest.mark.parametrize("code", ["EN", "english", "en-gb", "en_GB", "e", "en-GBR", ""])
def test_pilot_language_that_is_not_a_language_code_is_refused(code: str) -> None:
    assert pilot_refusal(languages=["en", code]) == [
        FieldError("languages", f"'{code}' is not a language code such as en, cy or gd")
    ]


@pytest.mark.parametrize(
    "email", ["democracy", "democracy@", "@northshire.example", "a b@northshire.example"]
)
def test_pilot_contact_email_must_be_an_email_address(email: str) -> None:
    assert [e.field for e in pilot_refusal(contact_email=email)] == ["contact_email"]


def test_pilot_contact_email_is_kept() -> None:
    assert pilot(contact_email="Democracy@Northshire.example").contact_email.endswith("@northshire.example")


def test_pilot_accessibility_page_must_be_a_web_address() -> None:
    spec = pilot(accessibility_url="https://northshire.example/accessibility")
    assert str(spec.accessibility_url) == "https://northshire.example/accessibility"
    for url in ["ftp://northshire.example/a", "javascript:alert(1)", "northshire accessibility"]:
        assert [e.field for e in pilot_refusal(accessibility_url=url)] == ["accessibility_url"], url


def test_pilot_contact_phone_is_limited_to_forty_characters() -> None:
    assert pilot(contact_phone="0191 123 4567").contact_phone == "0191 123 4567"
    assert [e.field for e in pilot_refusal(contact_phone="0" * 41)] == ["contact_phone"]


# StaffRoleSpec


@pytest.mark.parametrize("role", list(Role))
def test_staff_role_accepts_each_role(role: Role) -> None:
    spec = parse(StaffRoleSpec, {"email": "officer@northshire.example", "role": role.value})
    assert spec.role is role


def test_staff_role_refuses_unknown_roles() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(StaffRoleSpec, {"email": "officer@northshire.example", "role": "mayor"})
    assert [e.field for e in caught.value.errors] == ["role"]


# Postcodes


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("sw1a\t1aa", "SW1A 1AA"),
        ("m11ae", "M1 1AE"),
        ("W1A0AX", "W1A 0AX"),
        ("ne14st", "NE1 4ST"),
        ("sw1a 1", "SW1A 1"),
        ("NE1  4", "NE1 4"),
        ("sw1a", "SW1A"),
        ("b1", "B1"),
        ("   ", ""),
    ],
)
def test_normalise_postcode_upper_cases_and_places_the_space(raw: str, normalised: str) -> None:
    assert normalise_postcode(raw) == normalised


def test_area_accepts_full_postcodes_sectors_and_districts() -> None:
    assert area("ne14st", "NE1 4", "ne1").postcodes == ["NE1 4ST", "NE1 4", "NE1"]


def test_area_postcodes_are_unique_after_normalising() -> None:
    assert area("SW1A 1AA", "sw1a1aa", " SW1A  1AA ", "SW1A 2AA").postcodes == ["SW1A 1AA", "SW1A 2AA"]


def test_area_skips_blank_postcodes() -> None:
    assert area("", "  ", "NE1 4ST").postcodes == ["NE1 4ST"]


def test_area_may_have_no_postcodes() -> None:
    assert parse(AreaSpec, {"name": "Riverside Ward", "code": "E05000001"}).postcodes == []


@pytest.mark.parametrize(
    "junk",
    ["12345", "SW1A 1AA X", "ABC 123", "A1 1A", "SW1A 1AAA", "SW1A-1AA", "!!", "1AA", "ne1 4st, ne1 5st"],
)
def test_area_refuses_what_is_not_a_postcode_naming_it(junk: str) -> None:
    assert area_refusal("NE1 4ST", junk) == [
        FieldError("postcodes", f"'{junk}' is not a postcode, postcode sector or district")
    ]


def test_sector_written_without_its_space_is_refused_as_ambiguous() -> None:
    # "NE14" could be district NE14 or sector "NE1 4"; only the space tells them apart.
    assert normalise_postcode("ne14") == "NE14"
    assert [e.field for e in area_refusal("SW1A1")] == ["postcodes"]


# Area codes


@pytest.mark.parametrize("code", ["E05000001", "ward-7", "north_east", "W" * 20, "7"])
def test_area_code_accepts_letters_digits_dashes_and_underscores(code: str) -> None:
    assert area(code=code).code == code


@pytest.mark.parametrize("code", ["", "-ward", "_ward", "ward 7", "ward/7", "W" * 21])
def test_area_code_refuses_anything_else(code: str) -> None:
    assert area_refusal(code=code) == [FieldError("code", AREA_CODE_HELP)]


# Area CSV import


def test_csv_import_reads_every_good_row_with_its_line() -> None:
    text = (
        "name,code,postcodes\n"
        "Riverside Ward,E05000001,NE1 4ST;ne14sw\n"
        "Hill Ward,E05000002,\n"
        "Market Ward,E05000003,NE2\n"
    )
    result = parse_area_csv(text)
    assert result.errors == []
    assert [(line, a.name, a.code, a.postcodes) for line, a in result.rows] == [
        (2, "Riverside Ward", "E05000001", ["NE1 4ST", "NE1 4SW"]),
        (3, "Hill Ward", "E05000002", []),
        (4, "Market Ward", "E05000003", ["NE2"]),
    ]


def test_csv_import_ignores_a_byte_order_mark() -> None:
    result = parse_area_csv("\ufeffname,code\nRiverside Ward,E05000001\n")
    assert result.errors == []
    assert [a.code for _, a in result.rows] == ["E05000001"]


def test_csv_import_accepts_headers_in_any_case_with_spaces() -> None:
    result = parse_area_csv(" Name , CODE ,Postcodes\nRiverside Ward,E05000001,NE1\n")
    assert result.errors == []
    assert [(a.name, a.postcodes) for _, a in result.rows] == [("Riverside Ward", ["NE1"])]


def test_csv_import_accepts_windows_line_endings() -> None:
    result = parse_area_csv("name,code\r\nRiverside Ward,E05000001\r\nHill Ward,E05000002\r\n")
    assert result.errors == []
    assert [line for line, _ in result.rows] == [2, 3]


@pytest.mark.parametrize("separator", [";", ",", "|"])
def test_csv_import_splits_postcodes_on_semicolons_commas_and_bars(separator: str) -> None:
    text = f'name,code,postcodes\nRiverside Ward,E05000001,"NE1 4ST{separator} NE1 4SW"\n'
    [(_, riverside)] = parse_area_csv(text).rows
    assert riverside.postcodes == ["NE1 4ST", "NE1 4SW"]


def test_csv_import_trims_the_code() -> None:
    [(_, riverside)] = parse_area_csv("name,code\nRiverside Ward, E05000001 \n").rows
    assert riverside.code == "E05000001"


@pytest.mark.parametrize(
    ("header", "missing"),
    [("name,postcodes", "code"), ("code,postcodes", "name"), ("ward,id,postcodes", "name, code")],
)
def test_csv_import_without_name_or_code_column_reports_the_header(header: str, missing: str) -> None:
    result = parse_area_csv(f"{header}\nRiverside Ward,E05000001\n")
    assert result.rows == []
    assert result.errors == [RowError(1, "header", f"Missing column: {missing}")]


def test_csv_import_of_an_empty_file_reports_line_one_and_imports_nothing() -> None:
    result = parse_area_csv("")
    assert result.rows == []
    assert [(e.line, e.field) for e in result.errors] == [(1, "header")]


def test_csv_import_of_a_header_alone_says_the_file_has_no_rows() -> None:
    result = parse_area_csv("name,code,postcodes\n")
    assert (result.rows, result.errors) == ([], [RowError(1, "file", "The file has no rows")])


def test_csv_import_refuses_repeated_codes_naming_the_line_of_first_use() -> None:
    text = "name,code\nRiverside Ward,E1\nHill Ward,E2\nMarket Ward,E1\nDock Ward,E1\n"
    result = parse_area_csv(text)
    assert [(line, a.code) for line, a in result.rows] == [(2, "E1"), (3, "E2")]
    assert result.errors == [
        RowError(4, "code", "Code E1 is already used on line 2"),
        RowError(5, "code", "Code E1 is already used on line 2"),
    ]


def test_csv_import_does_not_count_a_bad_row_as_the_first_use_of_its_code() -> None:
    text = "name,code,postcodes\nX,E1,\nRiverside Ward,E1,\n"
    result = parse_area_csv(text)
    assert [line for line, _ in result.rows] == [3]
    assert result.errors == [RowError(2, "name", "Enter at least 2 characters")]


def test_csv_import_refuses_a_row_with_more_cells_than_the_header() -> None:
    result = parse_area_csv("name,code\nRiverside Ward,E1,NE1\nHill Ward,E2\n")
    assert result.errors == [RowError(2, "row", "This row has more columns than the header")]
    assert [line for line, _ in result.rows] == [3]


def test_csv_import_ignores_extra_named_columns() -> None:
    result = parse_area_csv("name,code,postcodes,notes\nRiverside Ward,E1,NE1,by the river\n")
    assert result.errors == []
    assert [(a.code, a.postcodes) for _, a in result.rows] == [("E1", ["NE1"])]


def test_csv_import_reports_each_bad_row_with_its_line_and_field() -> None:
    text = (
        "name,code,postcodes\n"
        "Riverside Ward,E1,NE1\n"  # line 2, good
        "\n"  # line 3, blank: skipped but still counted
        "Hill Ward,bad code!,\n"  # line 4
        "M,E5,NE1\n"  # line 5
        "Dock Ward,E6,12345\n"  # line 6
        "Short Ward\n"  # line 7: no code cell at all
    )
    result = parse_area_csv(text)
    assert [line for line, _ in result.rows] == [2]
    assert result.errors == [
        RowError(4, "code", AREA_CODE_HELP),
        RowError(5, "name", "Enter at least 2 characters"),
        RowError(6, "postcodes", "'12345' is not a postcode, postcode sector or district"),
        RowError(7, "code", AREA_CODE_HELP),
    ]


def test_csv_import_reports_every_problem_of_one_row() -> None:
    result = parse_area_csv("name,code,postcodes\nM,bad code!,nowhere\n")
    assert {(e.line, e.field) for e in result.errors} == {(2, "name"), (2, "code"), (2, "postcodes")}


def test_csv_import_numbers_a_row_by_the_line_it_starts_on() -> None:
    result = parse_area_csv('name,code\n"Riverside\nWard",E1\nHill Ward,E2\n')
    assert [line for line, _ in result.rows] == [2, 4]


def test_row_errors_become_field_errors_named_by_line() -> None:
    errors = [RowError(4, "code", AREA_CODE_HELP), RowError(1, "header", "Missing column: code")]
    assert row_errors_as_field_errors(errors) == [
        FieldError("line 4.code", AREA_CODE_HELP),
        FieldError("line 1.header", "Missing column: code"),
    ]
