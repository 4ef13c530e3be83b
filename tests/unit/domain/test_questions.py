"""Question specs: the defaults each of the six kinds fills in and the rules each kind must satisfy."""

from __future__ import annotations

from typing import Any

import pytest

from polls.domain.questions import KIND_LABELS, MAX_OPTIONS, QuestionKind, QuestionSpec
from polls.domain.validation import parse
from polls.errors import FieldError, ValidationFailed

TITLE = "Which park should we improve first?"
OPTIONS = [{"label": "Riverside Park"}, {"label": "Market Square"}, {"label": "Old Library Garden"}]
COSTED = [{"label": "New benches", "cost": 5_000}, {"label": "Play area", "cost": 40_000}]

# A minimal valid body for each kind, to which a test adds the one thing it is about.
BASES: dict[QuestionKind, dict[str, Any]] = {
    QuestionKind.SINGLE: {"kind": "single", "options": OPTIONS},
    QuestionKind.MULTIPLE: {"kind": "multiple", "options": OPTIONS},
    QuestionKind.RANKED: {"kind": "ranked", "options": OPTIONS},
    QuestionKind.SCALE: {"kind": "scale"},
    QuestionKind.BUDGET: {"kind": "budget", "options": COSTED, "budget_total": 50_000},
    QuestionKind.COMMENT: {"kind": "comment"},
}
OPTION_KINDS = [QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.RANKED, QuestionKind.BUDGET]
OPTIONLESS_KINDS = [QuestionKind.SCALE, QuestionKind.COMMENT]


def question(**body: Any) -> QuestionSpec:
    return parse(QuestionSpec, {"title": TITLE, **body})


def refusal(**body: Any) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as caught:
        question(**body)
    return caught.value.errors


def rule_broken(message: str) -> list[FieldError]:
    """Rules about the question as a whole are reported against the question, not one field."""
    return [FieldError("__root__", message)]


def options(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"label": f"Option {i}", **extra} for i in range(1, n + 1)]


# Defaults each kind fills in


@pytest.mark.parametrize("kind", list(QuestionKind))
def test_minimal_body_of_every_kind_is_accepted(kind: QuestionKind) -> None:
    assert question(**BASES[kind]).kind is kind


def test_single_choice_question_has_no_settings() -> None:
    spec = question(**BASES[QuestionKind.SINGLE])
    assert spec.settings() == {}
    assert (spec.min_choices, spec.max_choices, spec.seats, spec.max_length) == (None, None, None, None)


def test_multiple_choice_defaults_to_approval_over_all_options() -> None:
    spec = question(kind="multiple", options=options(4))
    assert spec.settings() == {"min_choices": 0, "max_choices": 4}


def test_multiple_choice_keeps_the_limits_the_officer_gives() -> None:
    spec = question(kind="multiple", options=options(4), min_choices=1, max_choices=2)
    assert spec.settings() == {"min_choices": 1, "max_choices": 2}


def test_multiple_choice_with_only_a_maximum_still_defaults_the_minimum_to_zero() -> None:
    assert question(kind="multiple", options=options(4), max_choices=3).min_choices == 0


def test_ranked_question_defaults_to_one_seat_the_scottish_rules_for_ties_and_transfers() -> None:
    assert question(**BASES[QuestionKind.RANKED]).settings() == {
        "seats": 1,
        "ranking_rule": "scottish",
        "stv_transfers": "scottish",
    }


def test_counting_rules_are_chosen_per_question_and_bad_values_are_refused() -> None:
    chosen = question(**BASES[QuestionKind.RANKED], ranking_rule="us", stv_transfers="meek").settings()
    assert (chosen["ranking_rule"], chosen["stv_transfers"]) == ("us", "meek")
    budget = question(**BASES[QuestionKind.BUDGET], mes_utility="approval", mes_completion="add1_greedy")
    assert budget.settings()["mes_utility"] == "approval"
    for bad, message in (
        ({**BASES[QuestionKind.RANKED], "ranking_rule": "texan"}, "tied or skipped ranks is one of"),
        ({**BASES[QuestionKind.RANKED], "stv_transfers": "gregory"}, "surplus transfer method is one of"),
        ({**BASES[QuestionKind.BUDGET], "mes_completion": "add2"}, "completion is one of"),
        ({**BASES[QuestionKind.SINGLE], "mes_utility": "cost"}, "only applies to budget"),
    ):
        assert message in " ".join(e.message for e in refusal(**bad))


def test_scale_defaults_to_one_to_five_without_labels() -> None:
    assert question(kind="scale").settings() == {
        "scale_min": 1,
        "scale_max": 5,
        "min_label": "",
        "max_label": "",
    }


def test_scale_keeps_trimmed_end_labels() -> None:
    spec = question(kind="scale", scale_min=0, scale_max=10, min_label=" Not at all ", max_label="Very much")
    assert spec.settings() == {
        "scale_min": 0,
        "scale_max": 10,
        "min_label": "Not at all",
        "max_label": "Very much",
    }


def test_comment_defaults_to_a_thousand_characters() -> None:
    assert question(kind="comment").settings() == {"max_length": 1000}


def test_budget_question_settings_are_its_total() -> None:
    assert question(**BASES[QuestionKind.BUDGET]).settings() == {
        "budget_total": 50_000,
        "mes_utility": "cost",
        "mes_completion": "add1",
    }


def test_text_fields_are_trimmed() -> None:
    spec = question(kind="single", title="  Where next?  ", help_text=" Pick one. ", options=OPTIONS)
    assert (spec.title, spec.help_text) == ("Where next?", "Pick one.")


# Fields every question has


def test_title_shorter_than_three_characters_is_refused() -> None:
    assert refusal(**BASES[QuestionKind.SINGLE], title=" Go ") == [
        FieldError("title", "Enter at least 3 characters")
    ]


def test_question_without_kind_is_refused() -> None:
    assert FieldError("kind", "This field is required") in refusal(options=OPTIONS)


def test_unknown_kind_is_refused_on_the_kind_field() -> None:
    assert [e.field for e in refusal(kind="yes_no", options=OPTIONS)] == ["kind"]


def test_unknown_field_is_refused() -> None:
    assert refusal(**BASES[QuestionKind.SINGLE], colour="red") == [
        FieldError("colour", "This field is not recognised")
    ]


def test_non_object_body_is_refused_as_a_whole() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(QuestionSpec, ["single", TITLE])
    assert caught.value.errors == [FieldError("__root__", "Send a JSON object")]


# Options


@pytest.mark.parametrize("kind", OPTION_KINDS)
@pytest.mark.parametrize("count", [0, 1])
def test_kinds_with_options_need_at_least_two(kind: QuestionKind, count: int) -> None:
    body = {
        **BASES[kind],
        "options": options(count, cost=100) if kind is QuestionKind.BUDGET else options(count),
    }
    assert refusal(**body) == rule_broken("Give at least 2 options")


@pytest.mark.parametrize("kind", OPTION_KINDS)
def test_option_labels_must_differ_ignoring_case_and_spaces(kind: QuestionKind) -> None:
    extra = {"cost": 100} if kind is QuestionKind.BUDGET else {}
    body = {**BASES[kind], "options": [{"label": "Skate Park", **extra}, {"label": " skate park ", **extra}]}
    problems = refusal(**body)
    assert len(problems) == 1
    assert "Each option needs a different label" in problems[0].message.split("; ")


@pytest.mark.parametrize("kind", OPTIONLESS_KINDS)
def test_scale_and_comment_questions_refuse_options(kind: QuestionKind) -> None:
    [problem] = refusal(**BASES[kind], options=OPTIONS)
    assert problem.field == "__root__"
    assert problem.message.startswith("A ")
    assert problem.message.endswith(" question has no options")


def test_option_without_a_label_is_refused_on_that_option() -> None:
    body = {**BASES[QuestionKind.SINGLE], "options": [{"label": "Park"}, {"label": "  "}]}
    assert refusal(**body) == [FieldError("options.1.label", "Enter at least 1 characters")]


def test_a_hundred_options_are_allowed_but_not_more() -> None:
    assert len(question(kind="single", options=options(MAX_OPTIONS)).options) == MAX_OPTIONS
    assert refusal(kind="single", options=options(MAX_OPTIONS + 1)) == [
        FieldError("options", f"Give at most {MAX_OPTIONS}")
    ]


# Budget


def test_budget_option_without_a_cost_is_refused() -> None:
    body = {**BASES[QuestionKind.BUDGET], "options": [{"label": "Benches", "cost": 10}, {"label": "Trees"}]}
    assert refusal(**body) == rule_broken("Give every option a cost")


def test_budget_question_without_a_total_is_refused() -> None:
    assert refusal(kind="budget", options=COSTED) == rule_broken("Give the total budget")


def test_budget_option_may_cost_the_whole_budget_but_not_more() -> None:
    whole = [{"label": "Library roof", "cost": 50_000}, {"label": "Benches", "cost": 1}]
    assert question(kind="budget", options=whole, budget_total=50_000).options[0].cost == 50_000
    over = [{"label": "Library roof", "cost": 50_001}, {"label": "Benches", "cost": 1}]
    assert refusal(kind="budget", options=over, budget_total=50_000) == rule_broken(
        "No option may cost more than the total budget"
    )


def test_budget_options_may_together_cost_more_than_the_budget() -> None:
    costs = [{"label": f"Project {i}", "cost": 30_000} for i in range(3)]
    assert question(kind="budget", options=costs, budget_total=50_000).budget_total == 50_000


def test_budget_problems_are_reported_together() -> None:
    body = {"kind": "budget", "options": [{"label": "Benches"}, {"label": "Trees"}]}
    assert refusal(**body) == rule_broken("Give every option a cost; Give the total budget")


@pytest.mark.parametrize("cost", [0, -5, 10**12 + 1])
def test_option_cost_outside_range_is_refused_on_that_option(cost: int) -> None:
    body = {**BASES[QuestionKind.BUDGET], "options": [{"label": "Benches", "cost": cost}, COSTED[1]]}
    assert [e.field for e in refusal(**body)] == ["options.0.cost"]


@pytest.mark.parametrize("kind", [QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.RANKED])
def test_only_budget_questions_have_costs(kind: QuestionKind) -> None:
    assert refusal(**{**BASES[kind], "options": options(3, cost=10)}) == rule_broken(
        "Only budget questions have costs"
    )


# Multiple choice


def test_multiple_choice_minimum_cannot_exceed_maximum() -> None:
    assert refusal(kind="multiple", options=options(4), min_choices=3, max_choices=2) == rule_broken(
        "The minimum number of choices cannot exceed the maximum"
    )


def test_multiple_choice_maximum_cannot_exceed_the_options() -> None:
    assert refusal(kind="multiple", options=options(3), max_choices=4) == rule_broken(
        "The maximum number of choices cannot exceed the 3 options"
    )


def test_multiple_choice_may_require_every_option() -> None:
    spec = question(kind="multiple", options=options(3), min_choices=3, max_choices=3)
    assert spec.settings() == {"min_choices": 3, "max_choices": 3}


def test_multiple_choice_with_one_option_only_reports_the_missing_options() -> None:
    assert refusal(kind="multiple", options=options(1)) == rule_broken("Give at least 2 options")


@pytest.mark.parametrize(("name", "value"), [("min_choices", -1), ("max_choices", 0)])
def test_multiple_choice_limits_below_range_are_refused_on_that_field(name: str, value: int) -> None:
    assert [e.field for e in refusal(kind="multiple", options=OPTIONS, **{name: value})] == [name]


# Ranked


@pytest.mark.parametrize("seats", [3, 4])
def test_ranked_question_needs_more_options_than_seats(seats: int) -> None:
    assert refusal(kind="ranked", options=options(3), seats=seats) == rule_broken(
        "There must be more options than seats"
    )


def test_ranked_question_with_several_seats_is_accepted() -> None:
    assert question(kind="ranked", options=options(5), seats=4).settings()["seats"] == 4


def test_ranked_question_with_two_options_elects_one() -> None:
    assert question(kind="ranked", options=options(2)).settings()["seats"] == 1


def test_ranked_question_needs_at_least_one_seat() -> None:
    assert [e.field for e in refusal(kind="ranked", options=OPTIONS, seats=0)] == ["seats"]


# Scale


@pytest.mark.parametrize(("low", "high"), [(3, 3), (5, 1)])
def test_scale_top_must_be_above_its_bottom(low: int, high: int) -> None:
    assert refusal(kind="scale", scale_min=low, scale_max=high) == rule_broken(
        "The top of the scale must be above the bottom"
    )


def test_scale_top_below_the_default_bottom_is_refused() -> None:
    assert refusal(kind="scale", scale_max=1) == rule_broken("The top of the scale must be above the bottom")


def test_scale_may_have_twenty_one_points_but_not_twenty_two() -> None:
    assert question(kind="scale", scale_min=-10, scale_max=10).settings()["scale_max"] == 10
    assert refusal(kind="scale", scale_min=-10, scale_max=11) == rule_broken(
        "A scale can have at most 21 points"
    )


def test_scale_from_zero_is_accepted() -> None:
    assert question(kind="scale", scale_min=0, scale_max=4).settings()["scale_min"] == 0


@pytest.mark.parametrize(("name", "value"), [("scale_min", -101), ("scale_max", 101)])
def test_scale_ends_beyond_a_hundred_are_refused_on_that_field(name: str, value: int) -> None:
    assert [e.field for e in refusal(kind="scale", **{name: value})] == [name]


def test_scale_label_longer_than_eighty_characters_is_refused() -> None:
    assert [e.field for e in refusal(kind="scale", max_label="x" * 81)] == ["max_label"]


# Comment


def test_comment_may_allow_ten_thousand_characters_but_not_more() -> None:
    assert question(kind="comment", max_length=10_000).settings() == {"max_length": 10_000}
    assert [e.field for e in refusal(kind="comment", max_length=10_001)] == ["max_length"]


def test_comment_needs_room_for_at_least_one_character() -> None:
    assert refusal(kind="comment", max_length=0) == [FieldError("max_length", "Enter a number of at least 1")]


# Settings that belong to another kind

OWNED_SETTINGS = [
    ("min_choices", 1, QuestionKind.MULTIPLE),
    ("max_choices", 2, QuestionKind.MULTIPLE),
    ("seats", 1, QuestionKind.RANKED),
    ("scale_min", 1, QuestionKind.SCALE),
    ("scale_max", 5, QuestionKind.SCALE),
    ("budget_total", 1_000, QuestionKind.BUDGET),
    ("max_length", 500, QuestionKind.COMMENT),
]


@pytest.mark.parametrize(
    ("name", "value", "owner", "kind"),
    [
        (name, value, owner, kind)
        for name, value, owner in OWNED_SETTINGS
        for kind in QuestionKind
        if kind != owner
    ],
)
def test_setting_of_another_kind_is_refused_naming_its_kind(
    name: str, value: int, owner: QuestionKind, kind: QuestionKind
) -> None:
    [problem] = refusal(**BASES[kind], **{name: value})
    assert problem.field == "__root__"
    assert problem.message == f"'{name}' only applies to {KIND_LABELS[owner].lower()} questions"


@pytest.mark.parametrize("name", ["min_label", "max_label"])
@pytest.mark.parametrize("kind", [k for k in QuestionKind if k is not QuestionKind.SCALE])
def test_scale_labels_are_refused_on_other_kinds(name: str, kind: QuestionKind) -> None:
    assert refusal(**BASES[kind], **{name: "Strongly agree"}) == rule_broken(
        "Scale labels only apply to scale questions"
    )


def test_blank_scale_labels_on_other_kinds_count_as_left_out() -> None:
    assert question(**BASES[QuestionKind.SINGLE], min_label="  ", max_label="").settings() == {}


def test_every_problem_with_a_question_is_reported_at_once() -> None:
    [problem] = refusal(kind="comment", options=OPTIONS, seats=2, min_label="Low")
    assert len(problem.message.split("; ")) == 3
    assert problem.message.endswith("; Scale labels only apply to scale questions")


# Explicit nulls, as a JSON client may send for every field it does not use

NULLED_OWN_SETTINGS = [
    (QuestionKind.MULTIPLE, "min_choices"),
    (QuestionKind.MULTIPLE, "max_choices"),
    (QuestionKind.RANKED, "seats"),
    (QuestionKind.SCALE, "scale_min"),
    (QuestionKind.SCALE, "scale_max"),
    (QuestionKind.COMMENT, "max_length"),
]


@pytest.mark.parametrize(("kind", "name"), NULLED_OWN_SETTINGS)
def test_null_for_a_kinds_own_setting_means_the_same_as_leaving_it_out(kind: QuestionKind, name: str) -> None:
    assert question(**BASES[kind], **{name: None}).settings() == question(**BASES[kind]).settings()


def test_null_budget_total_is_refused_like_a_missing_one() -> None:
    assert refusal(**{**BASES[QuestionKind.BUDGET], "budget_total": None}) == rule_broken(
        "Give the total budget"
    )


def test_null_setting_of_another_kind_counts_as_left_out() -> None:
    assert question(**BASES[QuestionKind.SINGLE], seats=None, budget_total=None).settings() == {}
