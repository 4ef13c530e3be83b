"""Reading what residents wrote: who tagged what, where analysts disagree, counts that hide small
cells, changes that wait for confirmation, and suggested themes in English and Welsh."""

from __future__ import annotations

import pytest

from polls.domain import analysis
from polls.domain.analysis import Response, TagsSpec, ThemeSpec
from polls.domain.theme_suggestions import suggest
from polls.domain.validation import parse
from polls.errors import Conflict, ErrorCode, ValidationFailed


def _response(number: int, area: int | None, channel: str, status: str = "published") -> Response:
    return Response(number, 7, f"text {number}", status, None, area, channel)


def test_analysts_disagree_on_themes_not_all_of_them_gave() -> None:
    read = analysis.readings([(1, "ann", 10), (1, "ann", 11), (1, "bob", 10), (2, "ann", 12)])
    assert read[1].themes == {10, 11}
    assert read[1].disputed == {11}
    assert read[2].disputed == set()  # one analyst cannot disagree with themself


def test_counts_by_area_and_channel_hide_cells_under_k() -> None:
    items = [_response(n, 1, "online") for n in range(1, 6)] + [_response(6, 2, "paper")]
    read = analysis.readings([(n, "ann", 10) for n in range(1, 7)])
    [count] = analysis.theme_counts(items, read, {10: "Lighting"}, {1: "North", 2: "South"}, k=5)
    assert count.total == 6
    assert count.by_area == {"North": 5, "South": None}
    assert count.by_channel == {"online": 5, "paper": None}


def test_withheld_responses_take_no_part() -> None:
    items = analysis.responses(
        [
            {"question_id": 7, "text": "fine", "status": "published", "reason": None},
            {"question_id": 7, "text": "names a neighbour", "status": "withheld", "reason": "identifying"},
        ],
        [[1, "online"], [1, "event"]],
    )
    assert [r.number for r in analysis.analysed(items)] == [1]
    assert items[1].channel == "event"


def test_a_change_that_tags_use_waits_for_confirmation() -> None:
    with pytest.raises(Conflict) as refused:
        analysis.require_confirmed(3, False, "delete")
    assert refused.value.code is ErrorCode.THEME_IN_USE and "3 tags use" in refused.value.message
    analysis.require_confirmed(3, True, "delete")
    analysis.require_confirmed(0, False, "delete")


def test_theme_names_are_tidied_and_tags_deduplicated() -> None:
    assert parse(ThemeSpec, {"name": "  Street   lighting "}).name == "Street lighting"
    with pytest.raises(ValidationFailed):
        parse(ThemeSpec, {"name": "   "})
    assert parse(TagsSpec, {"themes": [3, 1, 3]}).themes == [1, 3]


ENGLISH = [
    "The skate park needs better lighting at night",
    "Lighting in the skate park is poor after dark",
    "Please fix the lighting by the skate park",
    "More bins in the park please, litter everywhere",
    "Litter and overflowing bins are a problem",
    "Empty the bins more often, the litter is awful",
]
WELSH = [
    "Mae parcio ger yr ysgol yn broblem bob bore",
    "Parcio ger yr ysgol yn ofnadwy bob bore",
    "Does dim lle parcio ger yr ysgol",
]


def test_suggestions_group_similar_responses_in_english_and_welsh() -> None:
    found = suggest(ENGLISH + WELSH, groups=3)
    groups = sorted(sorted(s.members) for s in found)
    assert groups == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    welsh = next(s for s in found if 6 in s.members)
    assert "parcio" in " ".join(welsh.key_phrases) and "yr" not in welsh.key_phrases
    assert suggest(ENGLISH + WELSH, groups=3) == found  # the same texts give the same groups


def test_too_few_or_empty_responses_give_no_suggestions() -> None:
    assert suggest(["one", "two"]) == []
    assert suggest(["the and", "a an the", "yr a ac", "and the"]) == []
