"""Ballot files: the published file round trip, the interchange readers, and errors naming the line."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from polls.domain.ballot_files import (
    read_ballot_file,
    read_blt,
    read_pabulib,
    read_preflib,
    read_published,
    write_published,
)
from polls.domain.ballots import OptionDef, PollDef, QuestionDef
from polls.domain.counting.ranked import RankedBallots
from polls.domain.published_ballots import BallotFileLayout, PublishedComment, republish
from polls.domain.questions import QuestionKind
from polls.errors import BallotFileError

RANKED = QuestionDef(
    11, QuestionKind.RANKED, "Which park first?", {"seats": 1}, (OptionDef(1, "Ash"), OptionDef(2, "Birch"))
)
SCALE = QuestionDef(12, QuestionKind.SCALE, "How safe do you feel?", {"scale_min": 1, "scale_max": 5})
BUDGET = QuestionDef(
    13,
    QuestionKind.BUDGET,
    "Spend £1,000",
    {"budget_total": 1000},
    (OptionDef(5, "Benches", 300), OptionDef(6, "Lights", 800)),
)
COMMENT = QuestionDef(14, QuestionKind.COMMENT, "Anything else?", {"max_length": 100})
POLL = PollDef(id=3, pilot_id=1, area_ids=frozenset(), questions=(RANKED, SCALE, BUDGET, COMMENT))


def published(ballots: list[dict[str, object]], **options: Any) -> str:
    return write_published(POLL, "Park survey", {11: "instant_runoff"}, ballots, random.Random(1), **options)


def problem(read: object, text: str) -> tuple[int, str]:
    with pytest.raises(BallotFileError) as caught:
        read(text)  # type: ignore[operator]
    return caught.value.line, caught.value.problem


BALLOTS: list[dict[str, object]] = [
    {"11": [2, 1], "12": 4, "14": "my street"},
    {"12": 5},
    {"13": [5]},
    {"14": "only a comment"},
]


def test_whole_ballot_file_has_one_shuffled_ballot_per_line_and_comments_on_their_own() -> None:
    comments = [PublishedComment(14, "[withheld: could identify someone]"), PublishedComment(14, "Hi")]
    lines = published(BALLOTS, layout=BallotFileLayout.WHOLE_BALLOT, comments=comments).splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "polls-ballots" and header["version"] == 1
    assert header["layout"] == "whole_ballot"
    assert [q["id"] for q in header["questions"]] == [11, 12, 13, 14]
    assert header["questions"][0]["method"] == "instant_runoff" and header["questions"][3]["method"] is None
    assert sorted(lines[1:5]) == sorted(['{"11":[2,1],"12":4}', '{"12":5}', '{"13":[5]}', "{}"])
    # comments never ride on a ballot's line: only as reviewed, each on its own, last
    assert lines[5:] == ['{"14":"[withheld: could identify someone]"}', '{"14":"Hi"}']
    assert "my street" not in "\n".join(lines)


def test_per_question_file_never_puts_two_questions_on_one_line() -> None:
    lines = published(BALLOTS * 3).splitlines()
    assert json.loads(lines[0])["layout"] == "per_question"
    rows = [json.loads(line) for line in lines[1:]]
    assert all(len(row) == 1 for row in rows)
    assert [next(iter(row)) for row in rows] == ["11"] * 3 + ["12"] * 6 + ["13"] * 3  # grouped by question


def test_both_layouts_count_the_same() -> None:
    whole = read_published(published(BALLOTS * 2, layout=BallotFileLayout.WHOLE_BALLOT))
    apart = read_published(published(BALLOTS * 2))
    assert whole.questions == apart.questions


def test_republishing_keeps_the_counted_lines_and_replaces_the_comments() -> None:
    first = published(BALLOTS, comments=[PublishedComment(14, "[withheld: awaiting review]")])
    again = republish(first, POLL, "Park survey", {11: "borda"}, 1, [PublishedComment(14, "Fine")])
    assert again.splitlines()[1:-1] == first.splitlines()[1:-1]
    assert again.splitlines()[-1] == '{"14":"Fine"}'
    assert json.loads(again.splitlines()[0])["questions"][0]["method"] == "borda"
    assert json.loads(again.splitlines()[0])["layout"] == "per_question"


def test_a_withheld_placeholder_longer_than_a_short_comment_limit_still_reads() -> None:
    short = QuestionDef(14, QuestionKind.COMMENT, "One word?", {"max_length": 5})
    poll = PollDef(id=3, pilot_id=1, area_ids=frozenset(), questions=(RANKED, short))
    text = write_published(
        poll, "t", {}, [], comments=[PublishedComment(14, "[withheld: abusive or offensive]")]
    )
    assert read_published(text).questions[1].ballots == (("[withheld: abusive or offensive]", 1),)


def test_published_file_reads_back_as_counts_of_each_distinct_answer() -> None:
    read = read_published(published([{"11": [2, 1], "12": 4}, {"11": [2, 1]}, {"11": [1]}, {"13": [6]}]))
    assert read.format == "polls-ballots" and read.title == "Park survey"
    ranked, scale, budget, comment = read.questions
    assert ranked.method == "instant_runoff" and ranked.ballots == (((1,), 1), ((2, 1), 2))
    assert scale.ballots == ((4, 1),)
    assert budget.question.options[1].cost == 800
    assert budget.ballots == (((6,), 1),)
    assert comment.method is None and comment.ballots == ()


def test_a_ballot_over_the_budget_names_its_line() -> None:
    text = published([{"12": 1}]) + '{"13": [5, 6]}\n'
    assert problem(read_published, text) == (
        3,
        "question 13: Your choices cost £1,100, more than the £1,000 budget",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"11": [1, 1]}', "question 11: Each option can be chosen only once"),
        ('{"11": [9]}', "question 11: That option is not in this question"),
        ('{"99": 1}', "question 99: This poll has no such question"),
        ('{"12": 7}', "question 12: Choose a point from 1 to 5"),
        ("[1, 2]", "a ballot must be an object keyed by question id"),
        ('{"11": [1}', "not valid JSON (Expecting ',' delimiter at column 10)"),
    ],
)
def test_malformed_ballot_lines_are_named(line: str, expected: str) -> None:
    assert problem(read_published, published([{"12": 3}]) + line + "\n") == (3, expected)


def test_a_header_that_is_not_a_published_file_is_refused_on_line_1() -> None:
    assert problem(read_published, '{"format": "other"}\n')[0] == 1
    assert problem(read_published, "")[1].startswith("the file is empty")
    header = json.loads(published([]).splitlines()[0])
    header["questions"][0]["method"] = "borda"  # allowed for ranked
    header["questions"][1]["method"] = "stv"  # not for a scale question
    assert problem(read_published, json.dumps(header)) == (
        1,
        "question 2: 'stv' cannot count a scale question",
    )


PREFLIB = """# FILE NAME: 00001-00000001.soi
# TITLE: Ward 1 by-election
# DATA TYPE: soi
# NUMBER ALTERNATIVES: 3
# NUMBER VOTERS: 6
# NUMBER UNIQUE ORDERS: 3
# ALTERNATIVE NAME 1: Ash
# ALTERNATIVE NAME 2: Birch
# ALTERNATIVE NAME 3: Cedar
3: 1,2,3
2: 2,1
1: 3
"""


def test_preflib_soi_file_gives_ranked_ballots_with_names() -> None:
    read = read_preflib(PREFLIB)
    (item,) = read.questions
    assert read.title == "Ward 1 by-election" and item.question.kind is QuestionKind.RANKED
    assert [o.label for o in item.question.options] == ["Ash", "Birch", "Cedar"]
    assert item.ballots == (((1, 2, 3), 3), ((2, 1), 2), ((3,), 1))


def test_preflib_toi_keeps_its_ties_for_the_rule_to_read() -> None:
    text = PREFLIB.replace("DATA TYPE: soi", "DATA TYPE: toi").replace("3: 1,2,3", "3: 1,{2,3}")
    item = read_ballot_file("ward.toi", text).questions[0]
    assert item.ballots == (((1, (2, 3)), 3), ((2, 1), 2), ((3,), 1))
    # the Scottish rule (the default) counts each ballot up to its first tie
    assert RankedBallots.weighted([1, 2, 3], item.ballots).rankings == (((1,), 3), ((2, 1), 2), ((3,), 1))


def test_a_preflib_file_without_a_voter_count_says_it_cannot_check_it() -> None:
    read = read_preflib(PREFLIB.replace("# NUMBER VOTERS: 6\n", ""))
    assert len(read.notes) == 1 and "no total can be checked" in read.notes[0]
    assert read_preflib(PREFLIB).notes == ()


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("3: 1,2,3", "3: 1,2,4"), 10, "alternative 4 is not between 1 and 3"),
        (("3: 1,2,3", "3: 1,2,1"), 10, "an alternative appears twice in one order"),
        (("3: 1,2,3", "3 1,2,3"), 10, "an order needs the form 'count: 1,2,3'"),
        (("3: 1,2,3", "x: 1,2,3"), 10, "the count should be a whole number, not 'x'"),
        (("3: 1,2,3", "3: 1,{2,3}"), 10, "a strict-order file (.soi) cannot hold ties in braces"),
        (("VOTERS: 6", "VOTERS: 7"), 5, "the file says 7 voters but its orders add up to 6"),
        (("# NUMBER ALTERNATIVES: 3\n", ""), 9, "an order comes before '# NUMBER ALTERNATIVES'"),
    ],
)
def test_malformed_preflib_files_name_the_line(change: tuple[str, str], line: int, message: str) -> None:
    assert problem(read_preflib, PREFLIB.replace(*change)) == (line, message)


BLT = """4 2
-4
1 1 2 0
(b7) 2 2 1 3 0
3 3 0
1 2=3 1 0
0
"Ash"
"Birch"
"Cedar"
"Dogwood"
"Ward 2, two seats"
"""


def test_blt_file_gives_seats_names_weights_and_skips_withdrawn_candidates() -> None:
    read = read_blt(BLT)
    (item,) = read.questions
    assert read.title == "Ward 2, two seats" and item.question.settings == {"seats": 2}
    assert [o.label for o in item.question.options] == ["Ash", "Birch", "Cedar"]  # Dogwood withdrew
    # "2=3 1" ranks Birch and Cedar equal first: kept as marked, for the rule to read
    assert item.ballots == (((1, 2), 1), ((2, 1, 3), 2), ((3,), 3), (((2, 3), 1), 1))
    # under the Scottish rule nothing is usable before the tie, so it is not a valid vote
    assert RankedBallots.weighted([1, 2, 3], item.ballots).total == 6


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("3 3 0", "3 3"), 5, "a ballot line must end with 0"),
        (("3 3 0", "3 5 0"), 5, "candidate 5 is not between 1 and 4"),
        (("3 3 0", "3 3 3 0"), 5, "a candidate is ranked twice on one ballot"),
        (("3 3 0", "three 3 0"), 5, "the ballot weight should be a whole number, not 'three'"),
        (("4 2\n", "4\n"), 1, "the first line should be 'candidates seats'"),
        (('"Cedar"', "Cedar"), 10, "expected a name in double quotes"),
        (('"Dogwood"\n"Ward 2, two seats"\n', ""), 10, "expected 4 candidate names, found 3"),
        (("\n0\n", "\n"), 7, "the ballots must end with a line '0' before the names"),
    ],
)
def test_malformed_blt_files_name_the_line(change: tuple[str, str], line: int, message: str) -> None:
    assert problem(read_blt, BLT.replace(*change, 1)) == (line, message)


PABULIB = """META
key;value
description;Green Million, district 1
num_projects;3
num_votes;4
budget;1000
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
1;600;Park
2;500;Pool
3;300;Library
VOTES
voter_id;vote
1;1,2
2;1
3;3
4;
"""


def test_pabulib_file_gives_a_budget_question_with_costs_and_approvals() -> None:
    read = read_pabulib(PABULIB)
    (item,) = read.questions
    assert read.title == "Green Million, district 1" and item.method == "greedy"
    assert item.question.kind is QuestionKind.BUDGET and item.question.settings == {"budget_total": 1000}
    assert [(o.id, o.label, o.cost) for o in item.question.options] == [
        (1, "Park", 600),
        (2, "Pool", 500),
        (3, "Library", 300),
    ]
    assert item.ballots == (((), 1), ((1,), 1), ((1, 2), 1), ((3,), 1))  # an empty vote is still a voter


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("3;3\n", "3;4\n"), 18, "the vote names project '4', which is not listed"),
        (("1;1,2", "1;1,1"), 16, "the vote names a project twice"),
        (("2;500;Pool", "2;five hundred;Pool"), 12, "the cost should be a number, not 'five hundred'"),
        (("2;500;Pool", "2;500"), 12, "expected 3 fields, found 2"),
        (("budget;1000", "budget;10.5"), 6, "the budget should be a whole, non-negative amount, not '10.5'"),
        (
            ("vote_type;approval", "vote_type;ordinal"),
            7,
            "vote_type 'ordinal' is not supported; only approval votes",
        ),
        (("num_votes;4", "num_votes;5"), 5, "num_votes says 5 but the file has 4 votes"),
        (("voter_id;vote", "voter_id;ballot"), 15, "the header has no 'vote' column"),
        (("META\n", ""), 1, "expected the section line META before any data"),
    ],
)
def test_malformed_pabulib_files_name_the_line(change: tuple[str, str], line: int, message: str) -> None:
    assert problem(read_pabulib, PABULIB.replace(*change, 1)) == (line, message)


def test_files_are_told_apart_by_extension() -> None:
    assert read_ballot_file("ward.soi", PREFLIB).format == "preflib"
    assert read_ballot_file("ward.BLT", BLT).format == "blt"
    assert read_ballot_file("district.pb", PABULIB).format == "pabulib"
    assert read_ballot_file("poll-3.jsonl", published([{"12": 2}])).format == "polls-ballots"


def test_blt_ballots_without_their_closing_zero_line_are_named() -> None:
    assert problem(read_blt, "4 2\n1 1 0\n") == (2, "the ballots never end with a line '0'")


def test_the_header_records_the_counting_rules_and_an_unknown_one_is_refused_on_line_1() -> None:
    ranked = QuestionDef(
        11,
        QuestionKind.RANKED,
        "Which park first?",
        {"seats": 1, "ranking_rule": "us", "stv_transfers": "meek"},
        (OptionDef(1, "Ash"), OptionDef(2, "Birch")),
    )
    poll = PollDef(id=7, pilot_id=1, area_ids=frozenset(), questions=(ranked,))
    text = write_published(poll, "Parks", {11: "stv"}, [{"11": [1, 2]}])
    header = json.loads(text.splitlines()[0])
    assert header["questions"][0]["settings"]["ranking_rule"] == "us"
    assert read_published(text).questions[0].question.settings["stv_transfers"] == "meek"
    with pytest.raises(BallotFileError) as refused:
        read_published(text.replace('"ranking_rule":"us"', '"ranking_rule":"texan"'))
    assert refused.value.line == 1 and "ranking_rule is one of scottish" in refused.value.problem
