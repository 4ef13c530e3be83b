"""Reading the pool and quotas from the CSV files councils use with the Sortition Foundation's tools."""

from __future__ import annotations

import pytest

from polls.domain.sortition import Quota, read_categories, read_people
from polls.errors import PoolFileError

CATEGORIES = """category,feature,min,max
gender,female,2,3
gender,male,2,3
age,under 40,1,4
age,40 and over,1,4
"""

PEOPLE = """id,name,gender,age,address,postcode
a1,Ann,female,under 40,1 High St,AB1 2CD
b2,Bob,Male,40 and over,1 high st ,ab1 2cd
c3,Cat,female , Under 40,2 High St,AB1 2CD
d4,Dan,male,40 and over,,
"""


def test_categories_are_read_in_file_order_with_their_quotas() -> None:
    quotas = read_categories(CATEGORIES)
    assert quotas.categories == ("gender", "age")
    assert quotas.features("age") == ("under 40", "40 and over")
    assert quotas.quota("gender", "male") == Quota("gender", "male", 2, 3)


@pytest.mark.parametrize(
    "header",
    ["category,name,min,max", "feature,value,min,max,min_flex,max_flex", " Category , Feature ,MIN,Max"],
)
def test_the_older_and_newer_sortition_foundation_headers_are_read_too(header: str) -> None:
    quotas = read_categories(f"\ufeff{header}\ngender,female,1,2\ngender,male,1,2\n")
    assert quotas.quotas == (Quota("gender", "female", 1, 2), Quota("gender", "male", 1, 2))


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("category,feature,min\ngender,female,1\n", 1, "no column 'max'"),
        (
            "category,feature,min,max\ngender,female,1,2\ngender,male,one,2\n",
            3,
            "min is 'one', not a whole number",
        ),
        ("category,feature,min,max\ngender,female,3,2\n", 2, "min 3 is more than max 2"),
        ("category,feature,min,max\ngender,female,-1,2\n", 2, "cannot be negative"),
        ("category,feature,min,max\n\ngender,,1,2\n", 3, "must both be filled in"),
        (
            "category,feature,min,max\ngender,female,1,2\nGender,Female ,1,2\n",
            3,
            "listed twice (also on line 2)",
        ),
    ],
)
def test_malformed_categories_are_refused_naming_the_line(text: str, line: int, says: str) -> None:
    with pytest.raises(PoolFileError) as caught:
        read_categories(text, file="categories.csv")
    assert caught.value.line == line
    assert says in caught.value.message
    assert caught.value.message.startswith(f"categories.csv, line {line}: ")


def test_empty_categories_file_is_refused() -> None:
    with pytest.raises(PoolFileError, match="empty"):
        read_categories("")
    with pytest.raises(PoolFileError, match="no categories"):
        read_categories("category,feature,min,max\n")


def test_people_are_matched_to_features_ignoring_case_and_spaces() -> None:
    pool = read_people(PEOPLE, read_categories(CATEGORIES))
    assert [p.id for p in pool.people] == ["a1", "b2", "c3", "d4"]
    assert pool.people[1].features == ("male", "40 and over")
    assert pool.people[2].features == ("female", "under 40")
    assert all(p.household is None for p in pool.people)


def test_household_columns_group_people_at_the_same_address() -> None:
    pool = read_people(PEOPLE, read_categories(CATEGORIES), household_columns=["address", "postcode"])
    assert pool.shared_households() == [("a1", "b2")]
    assert pool.people[3].household is None  # no address: lives with nobody else in the pool


def test_the_id_column_defaults_to_id_else_the_first_column() -> None:
    quotas = read_categories(CATEGORIES)
    pool = read_people("ref,gender,age\nx,female,under 40\n", quotas)
    assert pool.people[0].id == "x"
    pool = read_people(
        "name,gender,age,nationbuilder_id\nAnn,female,under 40,77\n", quotas, id_column="nationbuilder_id"
    )
    assert pool.people[0].id == "77"


def test_a_quoted_field_spanning_lines_keeps_the_line_numbers_right() -> None:
    text = 'id,note,gender,age\na,"two\nlines",female,under 40\nb,,robot,under 40\n'
    with pytest.raises(PoolFileError) as caught:
        read_people(text, read_categories(CATEGORIES))
    assert caught.value.line == 4


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("id,gender\na,female\n", 1, "no column 'age' (a category in the categories file)"),
        ("id,gender,age\na,female,under 40\nb,female\n", 3, "2 fields, but the header has 3"),
        ("id,gender,age\na,female,under 40\n,male,under 40\n", 3, "no id in column 'id'"),
        ("id,gender,age\na,female,under 40\n\na,male,under 40\n", 4, "id 'a' is used twice (also on line 2)"),
        (
            "id,gender,age\na,femal,under 40\n",
            2,
            "gender is 'femal'; the categories file allows female, male",
        ),
        ("id,gender,age\na,female,\n", 2, "age is empty"),
    ],
)
def test_malformed_people_are_refused_naming_the_line(text: str, line: int, says: str) -> None:
    with pytest.raises(PoolFileError) as caught:
        read_people(text, read_categories(CATEGORIES), file="people.csv")
    assert caught.value.line == line
    assert says in caught.value.message
    assert caught.value.message.startswith(f"people.csv, line {line}: ")


def test_a_missing_household_column_is_named() -> None:
    with pytest.raises(PoolFileError, match="no column 'household' \\(a household column\\)"):
        read_people(
            "id,gender,age\na,female,under 40\n", read_categories(CATEGORIES), household_columns=["household"]
        )


def test_a_people_file_with_nobody_is_refused() -> None:
    with pytest.raises(PoolFileError, match="nobody in it"):
        read_people("id,gender,age\n", read_categories(CATEGORIES))
