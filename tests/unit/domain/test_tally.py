"""The live counts a set of ballots adds up to: grouping equal answers first changes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polls.domain.ballots import OptionDef, PollDef, QuestionDef, tally_of
from polls.domain.questions import QuestionKind

Ballots = list[tuple[dict[str, Any], int | None, str]]  # answers, area id, channel


def _options(*ids: int) -> tuple[OptionDef, ...]:
    return tuple(OptionDef(i, f"o{i}") for i in ids)


SINGLE = QuestionDef(1, QuestionKind.SINGLE, "Pick one", {}, _options(10, 11))
MULTIPLE = QuestionDef(2, QuestionKind.MULTIPLE, "Any", {}, _options(20, 21, 22))
RANKED = QuestionDef(3, QuestionKind.RANKED, "Rank", {}, _options(30, 31, 32))
SCALE = QuestionDef(4, QuestionKind.SCALE, "How much?", {"scale_min": 0, "scale_max": 5})
BUDGET = QuestionDef(
    5, QuestionKind.BUDGET, "Share", {"budget_total": 100}, (OptionDef(50, "a", 60), OptionDef(51, "b", 30))
)
COMMENT = QuestionDef(6, QuestionKind.COMMENT, "Anything else?", {"max_length": 50})
POLL = PollDef(7, 1, frozenset(), (SINGLE, MULTIPLE, RANKED, SCALE, BUDGET, COMMENT))


def _one_by_one(ballots: Ballots) -> Counter[str]:
    """The counts written out ballot by ballot, answer by answer: what the live counts mean."""
    counts: Counter[str] = Counter()
    for answers, area_id, channel in ballots:
        counts["ballots"] += 1
        counts[f"area:{area_id if area_id is not None else 'none'}"] += 1
        counts[f"channel:{channel}"] += 1
        for key, answer in answers.items():
            if key == "99":
                continue  # no such question
            q = f"q{key}"
            counts[f"{q}:answered"] += 1
            if key == "1":
                counts[f"{q}:o{answer}"] += 1
            elif key in ("2", "5"):
                for option in answer:
                    counts[f"{q}:o{option}"] += 1
                if key == "5":
                    counts[f"{q}:spent"] += sum({50: 60, 51: 30}[o] for o in answer)
            elif key == "3":
                counts[f"{q}:o{answer[0]}"] += 1
            elif key == "4":
                counts[f"{q}:v{answer}"] += 1
                counts[f"{q}:sum"] += answer
    return counts


ballot = st.fixed_dictionaries(
    {},
    optional={
        "1": st.sampled_from([10, 11]),
        "2": st.lists(st.sampled_from([20, 21, 22]), unique=True, max_size=3).map(sorted),
        "3": st.permutations([30, 31, 32]).map(list),
        "4": st.integers(0, 5),
        "5": st.lists(st.sampled_from([50, 51]), unique=True, max_size=2).map(sorted),
        "6": st.text(alphabet="ab ", max_size=3),
        "99": st.integers(),
    },
)
ballots = st.lists(
    st.tuples(ballot, st.sampled_from([1, 2, None]), st.sampled_from(["online", "paper"])), max_size=30
)


# Timing is not what these test: a busy CI machine must not fail them.
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(ballots)
def test_the_counts_equal_adding_each_ballot_one_by_one(
    cast: Ballots,
) -> None:
    assert tally_of(POLL, cast) == _one_by_one(cast)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(ballots, ballots)
def test_counting_two_batches_apart_adds_up_to_counting_them_together(
    first: Ballots, second: Ballots
) -> None:
    assert tally_of(POLL, first) + tally_of(POLL, second) == tally_of(POLL, first + second)
