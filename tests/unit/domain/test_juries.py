"""Jury selection rules without servers: reading the pool, replacing a juror, the profile, jurors' names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from polls.domain.juries import AcceptSpec, choose_replacement, panel_profile, read_pool_files
from polls.domain.sortition import (
    Person,
    Pool,
    Quota,
    Quotas,
    commitment,
    fairest_lottery,
    group_pool,
    make_lottery,
)
from polls.domain.validation import parse
from polls.errors import ValidationFailed

QUOTAS = Quotas(
    (
        Quota("gender", "f", 2, 4),
        Quota("gender", "m", 2, 4),
        Quota("age", "young", 1, 3),
        Quota("age", "old", 3, 5),
    )
)
PEOPLE = tuple(Person(f"p{i:02}", (("f", "m")[i % 2], ("young", "old", "old")[i % 3])) for i in range(18))
LOTTERY = make_lottery(
    fairest_lottery(group_pool(Pool(PEOPLE, QUOTAS), households=False), 6),
    households_apart=False,
    seed_sha256=commitment("seed"),
)
FEATURES = {p.id: dict(zip(QUOTAS.categories, p.features, strict=True)) for p in PEOPLE}


def _fits(panel: list[str]) -> bool:
    return all(
        f.within_quota for f in panel_profile(QUOTAS, list(FEATURES.values()), [FEATURES[p] for p in panel])
    )


@st.composite
def seats(draw: st.DrawFn) -> tuple[list[str], str, list[str]]:
    """A valid panel of six, who leaves it, and reserves in order from everyone else."""
    panels = [list(p) for p in LOTTERY.panels]
    counts = draw(st.sampled_from(panels))
    panel = []
    for group, n in zip(LOTTERY.groups.groups, counts, strict=True):
        panel += draw(st.permutations(list(group.ids)))[:n]
    leaving = draw(st.sampled_from(panel))
    others = [p.id for p in PEOPLE if p.id not in panel]
    reserves = draw(st.lists(st.sampled_from(others), unique=True, max_size=len(others)))
    return panel, leaving, reserves


@given(seats())
@examples(max_examples=150, deadline=None)
def test_the_replacement_is_the_first_reserve_keeping_every_quota(
    case: tuple[list[str], str, list[str]],
) -> None:
    panel, leaving, reserves = case
    choice = choose_replacement(LOTTERY, panel, leaving, reserves)
    after = [p for p in panel if p != leaving]
    fitting = [r for r in reserves if _fits([*after, r])]
    if not reserves:
        assert choice is None
    elif fitting:
        assert choice is not None and (choice.person, choice.meets_quotas) == (fitting[0], True)
    else:
        assert choice is not None and not choice.meets_quotas and choice.problems
        assert choice.person in reserves


def test_the_profile_counts_the_pool_and_the_panel_against_each_quota() -> None:
    pool = list(FEATURES.values())
    panel = [FEATURES[p] for p in ("p00", "p01", "p02", "p03", "p04", "p05")]
    profile = {(f.category, f.feature): f for f in panel_profile(QUOTAS, pool, panel)}
    assert (profile["gender", "f"].pool, profile["gender", "f"].panel) == (9, 3)
    assert profile["age", "young"].panel == 2 and profile["age", "young"].within_quota
    assert profile["age", "old"].panel_share == pytest.approx(4 / 6)
    assert profile["age", "old"].pool_share == pytest.approx(12 / 18)


@pytest.mark.parametrize(
    "name", ["Jo", "Ann-Marie", "O'Neil", "Zoë", "Jean Luc", "Siân", "J.", "Мария", "李"]
)
def test_names_people_use_are_accepted(name: str) -> None:
    assert parse(AcceptSpec, {"display_name": name}).display_name == name


@pytest.mark.parametrize("name", ["", " ", "R2D2", "<b>", "Jo--Ann", "'Jo", "a" * 31, "Jo\u0000"])
def test_other_display_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailed):
        parse(AcceptSpec, {"display_name": name})


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_pool_files_are_read_whatever_their_line_endings(ending: str) -> None:
    """Old spreadsheet programs on the Mac end lines with a bare carriage return."""
    people = ["id,gender,age", "a,f,young", "b,m,old", "c,F,Old"]
    categories = ["category,feature,min,max", "gender,f,1,2", "gender,m,1,2", "age,young,1,2", "age,old,1,2"]
    pool = read_pool_files(ending.join(people) + ending, ending.join(categories) + ending)
    assert [(p.id, p.features) for p in pool.people] == [
        ("a", ("f", "young")),
        ("b", ("m", "old")),
        ("c", ("f", "old")),
    ]
    with pytest.raises(ValidationFailed) as refused:
        read_pool_files(ending.join([*people, "d,x,old"]), ending.join(categories))
    assert refused.value.errors[0].message.startswith("line 5: gender is 'x'")


def test_every_bad_line_of_the_categories_file_is_listed_at_once() -> None:
    people = "id,gender,age\n1,female,young\n2,male,old\n"
    categories = (
        "category,feature,min,max\ngender,female,a,1\ngender,male,0,b\nage,young,0,1\nage,young,0,1\n"
    )
    with pytest.raises(ValidationFailed) as refused:
        read_pool_files(people, categories)
    assert refused.value.message == "The categories file has 3 lines to fix"
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("categories", "line 2: min is 'a', not a whole number"),
        ("categories", "line 3: max is 'b', not a whole number"),
        ("categories", "line 5: age 'young' is listed twice (also on line 4)"),
    ]
