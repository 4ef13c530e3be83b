"""Results as people read them (pure): views for every method, SVG charts, CSV and pabulib files."""

from __future__ import annotations

import csv
import io
from datetime import date
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pabutools.election.pabulib import parse_pabulib_from_string

from polls.domain.ballot_files import read_pabulib
from polls.domain.ballots import OptionDef, QuestionDef
from polls.domain.charts import Bar, bar_chart
from polls.domain.counting import official
from polls.domain.counting.results import as_json
from polls.domain.exports import CSV_HEADER, PabulibFacts, pabulib, results_csv
from polls.domain.publication import check_method, methods_for
from polls.domain.questions import QuestionKind
from polls.domain.result_views import view
from polls.errors import ValidationFailed

SVG = "{http://www.w3.org/2000/svg}"
RANKED = QuestionDef(
    1,
    QuestionKind.RANKED,
    "Rank the <options>",
    {"seats": 2},
    (OptionDef(11, "Ann & Co"), OptionDef(12, "Bob"), OptionDef(13, "Cat"), OptionDef(14, "Dan")),
)
RANKED_BALLOTS = [((11, 12), 6), ((12, 13), 3), ((13, 11), 3), ((14,), 2), ((12, 11, 14), 1)]
BUDGET = QuestionDef(
    2,
    QuestionKind.BUDGET,
    "Share £100",
    {"budget_total": 100},
    (OptionDef(21, 'Trees; "big" ones', 60), OptionDef(22, "Benches", 50), OptionDef(23, "Bins", 30)),
)
FACTS = PabulibFacts("Northshire Council", "Pilot", "Park poll", date(2027, 1, 1), date(2027, 2, 1))


@pytest.mark.parametrize("method", official.METHODS[QuestionKind.RANKED])
def test_every_ranked_method_has_a_view_with_a_named_chart_and_a_table(method: str) -> None:
    result = as_json(official.count(RANKED, RANKED_BALLOTS, method))
    v = view(RANKED, method, result, "We will act.")
    assert v.summary and v.method_label and v.response == "We will act."
    assert [r.option_id for r in v.rows] == [11, 12, 13, 14] or method == "schulze"
    assert all(len(r.values) == len(v.rows[0].values) for r in v.rows)  # a rectangular table
    svg = ElementTree.fromstring(v.chart)
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Rank the <options>" in (title.text or "")  # escaped in the markup, whole in the name
    if method in ("condorcet", "schulze"):
        assert v.pairwise is not None and len(v.pairwise.rows) == 4
        assert {row[i + 1] for i, row in enumerate(v.pairwise.rows)} == {"–"}
    if method in ("instant_runoff", "stv"):
        assert v.rounds is not None
        assert all(len(row) == len(v.rounds.headers) for row in v.rounds.rows)


def test_stv_view_shows_every_stage_quota_and_who_was_elected() -> None:
    result = as_json(official.count(RANKED, RANKED_BALLOTS, "stv"))
    v = view(RANKED, "stv", result)
    assert v.rounds is not None
    assert "quota" in v.rounds.caption
    assert v.rounds.headers[1].startswith("Stage 1")
    elected = {r.label for r in v.rows if r.outcome == "elected"}
    assert elected == {{o.id: o.label for o in RANKED.options}[o] for o in result["elected"]}
    assert v.summary.startswith("Elected (2 seats)")


def test_ties_are_explained_in_words_with_the_lot_rule() -> None:
    tied = QuestionDef(3, QuestionKind.SINGLE, "Pick", {}, (OptionDef(31, "North"), OptionDef(32, "South")))
    result = as_json(official.count(tied, [(31, 4), (32, 4)]))
    v = view(tied, "plurality", result)
    [tie] = v.ties
    assert "were tied for winner; decided by lot" in tie and "North" in tie and "South" in tie
    assert result["lot"]["seed"] in v.lot_rule


def test_budget_view_marks_funded_projects_in_words() -> None:
    result = as_json(official.count(BUDGET, [((21,), 5), ((22, 23), 4)], "greedy"))
    v = view(BUDGET, "greedy", result)
    outcomes = {r.label: r.outcome for r in v.rows}
    assert outcomes == {'Trees; "big" ones': "funded", "Benches": "", "Bins": "funded"}
    assert "funded" in v.chart
    assert v.summary == 'Funded: Trees; "big" ones, Bins; £90 of £100 spent.'


def test_equal_shares_view_says_which_variant_ran_and_why_it_differs_from_greedy() -> None:
    # 10 voters: 5 want the trees (60), 4 the benches (50), 1 the bins (30). Greedy funds the trees
    # and then the bins, which still fit. Under equal shares the bins' one supporter has £12, not
    # £30: at £12 each the trees are bought, at £13 the benches too, which overspends.
    result = as_json(official.count(BUDGET, [((21,), 5), ((22,), 4), ((23,), 1)], "equal_shares"))
    notes = view(BUDGET, "equal_shares", result).notes
    assert (
        "Variant: cost utilities (a project is worth its cost to each supporter); completion: add1"
        in notes[1]
    )
    assert notes[2] == (
        "Each voter's share: £12, after 2 rises of £1; "
        "the rises stopped because the next rise would overspend the budget."
    )
    assert notes[3] == (
        "A greedy count by votes would fund Bins: its 1 supporter had 12.00 left of their equal "
        "shares, less than its cost of 30, after paying for other projects they supported."
    )


def test_ranked_views_name_the_rule_for_tied_ranks_and_meek() -> None:
    meek = QuestionDef(1, QuestionKind.RANKED, "R", {"seats": 2, "stv_transfers": "meek"}, RANKED.options)
    v = view(meek, "stv", as_json(official.count(meek, RANKED_BALLOTS, "stv")))
    assert v.method_label == "Single transferable vote (Meek's method)"
    assert any(n.startswith("Tied or skipped ranks: Scottish rule") for n in v.notes)


def test_methods_offered_start_with_the_usual_one_and_others_are_refused() -> None:
    assert methods_for(RANKED)[0] == "stv"
    assert check_method(RANKED, "schulze") == "schulze"
    with pytest.raises(ValidationFailed) as refused:
        check_method(RANKED, "greedy")
    assert refused.value.code == "method_not_available"
    comment = QuestionDef(4, QuestionKind.COMMENT, "Say", {"max_length": 10})
    assert methods_for(comment) == ()


def test_csv_has_a_row_per_option_and_measure() -> None:
    views = [
        view(RANKED, "instant_runoff", as_json(official.count(RANKED, RANKED_BALLOTS, "instant_runoff")))
    ]
    rows = list(csv.reader(io.StringIO(results_csv(views))))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 1 + 4 * 2  # four options, two measures each
    assert {r[4] for r in rows[1:]} == {"Ann & Co", "Bob", "Cat", "Dan"}


def test_csv_writes_formula_like_titles_and_labels_as_text() -> None:
    risky = QuestionDef(
        3,
        QuestionKind.SINGLE,
        "=1+1",
        {},
        (OptionDef(31, '=HYPERLINK("http://evil","x")'), OptionDef(32, "@SUM(A1)"), OptionDef(33, "Plain")),
    )
    views = [view(risky, "plurality", as_json(official.count(risky, [(31, 2), (33, 1)], "plurality")))]
    rows = list(csv.reader(io.StringIO(results_csv(views))))[1:]
    assert {r[1] for r in rows} == {"'=1+1"}
    assert {r[4] for r in rows} == {'\'=HYPERLINK("http://evil","x")', "'@SUM(A1)", "Plain"}


def test_chart_bars_carry_their_numbers_as_text() -> None:
    svg = bar_chart("c", "T", "D", [Bar("A", 3, "3 (75%)", "winner"), Bar("B", 1, "1 (25%)")])
    texts = [t.text for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]
    assert texts == ["A", "3 (75%) – winner", "B", "1 (25%)"]


answers = st.lists(st.sets(st.sampled_from([21, 22, 23]), max_size=3), min_size=0, max_size=30)


@settings(max_examples=60, deadline=None)
@given(answers)
def test_pabulib_file_reads_back_the_same_ballots_with_ours_and_pabutools(votes: list[set[int]]) -> None:
    counts: dict[tuple[int, ...], int] = {}
    for v in votes:
        counts[tuple(sorted(v))] = counts.get(tuple(sorted(v)), 0) + 1
    text = pabulib(BUDGET, counts.items(), "greedy", [21], FACTS)
    [back] = read_pabulib(text).questions
    assert dict(back.ballots) == {k: n for k, n in counts.items()}
    assert back.method == "greedy"
    assert [(o.id, o.label, o.cost) for o in back.question.options] == [
        (o.id, o.label, o.cost) for o in BUDGET.options
    ]
    assert back.question.settings["budget_total"] == 100
    instance, profile = parse_pabulib_from_string(text)
    assert instance.budget_limit == 100
    assert len(profile) == len(votes)
    assert instance.meta["date_begin"] == "01.01.2027" and instance.meta["vote_type"] == "approval"


def test_a_schulze_tie_names_one_winner_and_gives_the_tied_the_same_place() -> None:
    question = QuestionDef(
        5,
        QuestionKind.RANKED,
        "Pick",
        {"seats": 1},
        (OptionDef(51, "A"), OptionDef(52, "B"), OptionDef(53, "C")),
    )
    result = as_json(official.count(question, [((51, 52, 53), 1), ((52, 51, 53), 1)], "schulze"))
    shown = {
        row.label: (dict(row.values)["place"], row.outcome) for row in view(question, "schulze", result).rows
    }
    chosen = "A" if result["winner"] == 51 else "B"
    other = "B" if chosen == "A" else "A"
    assert shown == {chosen: ("1", "winner"), other: ("1", "unbeaten (tied)"), "C": ("2", "")}


def test_the_lot_rule_is_shown_only_when_a_lot_decided() -> None:
    question = QuestionDef(
        6, QuestionKind.SINGLE, "Pick", {}, (OptionDef(61, "Allotments"), OptionDef(62, "Parking lot"))
    )
    result = as_json(official.count(question, [(61, 3), (62, 1)], "plurality"))
    assert view(question, "plurality", result).lot_rule == ""


def test_value_words_too_long_for_beside_the_bar_go_under_it() -> None:
    svg = bar_chart(
        "c", "t", "d", [Bar("Trees", 100, "1,234 (68%)", "funded (completion)"), Bar("Bins", 10, "9 (1%)")]
    )
    texts = ElementTree.fromstring(svg).findall(f"{SVG}text")
    long_words, short_words = texts[1], texts[3]
    assert long_words.text == "1,234 (68%) – funded (completion)" and long_words.get("x") == "0.0"
    assert short_words.text == "9 (1%)" and float(short_words.get("x") or 0) > 0


def test_instant_runoff_ties_name_the_round_as_its_table_does() -> None:
    question = QuestionDef(
        7,
        QuestionKind.RANKED,
        "Pick",
        {"seats": 1},
        tuple(OptionDef(i, n) for i, n in ((71, "A"), (72, "B"), (73, "C"))),
    )
    result = as_json(official.count(question, [((71,), 3), ((72,), 2), ((73,), 2)], "instant_runoff"))
    v = view(question, "instant_runoff", result)
    assert v.rounds is not None and v.rounds.headers[1] == "Round 1"
    assert v.ties and all(t.startswith("At round ") for t in v.ties)
