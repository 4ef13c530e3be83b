"""The official count of a question, the published file recount, and `polls recount`."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import pytest

from polls.cli import count as cli_count
from polls.domain.ballot_files import read_published, write_published
from polls.domain.ballots import OptionDef, PollDef, QuestionDef
from polls.domain.counting import official
from polls.domain.counting.results import as_json
from polls.domain.questions import QuestionKind

OPTIONS = tuple(OptionDef(i, name) for i, name in enumerate(["Ash", "Birch", "Cedar", "Dogwood"], start=1))
WARD = QuestionDef(21, QuestionKind.RANKED, "Who should chair the panel?", {"seats": 1}, OPTIONS)
PANEL = QuestionDef(22, QuestionKind.RANKED, "Who should sit on the panel?", {"seats": 2}, OPTIONS)
CHOICE = QuestionDef(23, QuestionKind.SINGLE, "Which day?", {}, OPTIONS[:2])
PROJECTS = QuestionDef(
    24,
    QuestionKind.BUDGET,
    "Spend £1,000",
    {"budget_total": 1000},
    (OptionDef(5, "Benches", 300), OptionDef(6, "Lights", 800), OptionDef(7, "Bins", 200)),
)
POLL = PollDef(id=9, pilot_id=1, area_ids=frozenset(), questions=(WARD, PANEL, CHOICE, PROJECTS))


def stored_ballots(n: int = 400) -> list[dict[str, Any]]:
    rng = random.Random(4)
    ballots = []
    for _ in range(n):
        order = rng.sample([1, 2, 3, 4], rng.randint(1, 4))
        ballots.append(
            {
                "21": order,
                "22": list(reversed(order)),
                "23": rng.choice([1, 2]),
                "24": rng.choice([[5], [6], [5, 7], [7], [6, 7]]),
            }
        )
    return ballots


def counted(
    question: QuestionDef, ballots: list[dict[str, Any]], method: str | None = None
) -> dict[str, Any]:
    answers = [(b[str(question.id)], 1) for b in ballots if str(question.id) in b]
    return as_json(official.count(question, answers, method))


def test_each_kind_has_its_usual_method() -> None:
    assert official.usual_method(WARD) == "instant_runoff"
    assert official.usual_method(PANEL) == "stv"
    assert official.usual_method(WARD, seats=3) == "stv"
    assert official.usual_method(CHOICE) == "plurality"
    assert official.usual_method(PROJECTS) == "greedy"


def test_a_method_that_does_not_fit_the_question_is_refused() -> None:
    with pytest.raises(official.MethodNotAvailable):
        official.count(CHOICE, [(1, 1)], "stv")
    comment = QuestionDef(25, QuestionKind.COMMENT, "Anything else?", {"max_length": 10})
    with pytest.raises(official.MethodNotAvailable):
        official.usual_method(comment)


@pytest.mark.parametrize("method", official.METHODS[QuestionKind.RANKED])
def test_every_ranked_method_counts_the_same_ballots(method: str) -> None:
    result = official.count(PANEL, [([1, 2], 3), ([3], 2)], method)
    assert result.method == ("plurality" if method == "plurality" else method)
    assert result.ballots == 5


def test_recounting_the_published_file_gives_the_official_result_exactly() -> None:
    ballots = stored_ballots()
    methods = {21: "instant_runoff", 22: "stv", 24: "equal_shares"}
    text = write_published(POLL, "Ward panel", methods, ballots, random.Random(7))
    for item in read_published(text).questions:
        recount = as_json(official.count(item.question, item.ballots, item.method))
        assert recount == counted(item.question, ballots, methods.get(item.question.id))


def recount(path: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="polls")
    cli_count.add_parsers(parser.add_subparsers(dest="command"))
    return parser.parse_args(["recount", str(path), *extra])


def test_polls_recount_prints_every_stage_and_ends_with_the_results_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ballots = stored_ballots()
    path = tmp_path / "poll-9.jsonl"
    path.write_text(write_published(POLL, "Ward panel", {22: "stv"}, ballots, random.Random(7)))
    assert cli_count.run(recount(path)) == 0
    out = capsys.readouterr().out.splitlines()
    assert "Question 22: Who should sit on the panel?" in out
    assert any(line.startswith("  stage 2: ") for line in out)
    assert any(line.startswith("  round 1: ") for line in out)
    final = json.loads(out[-1])
    assert final["format"] == "polls-ballots"
    by_question = {r["question"]: r["result"] for r in final["results"]}
    assert by_question[22] == counted(PANEL, ballots, "stv")
    assert by_question[24] == counted(PROJECTS, ballots)


def test_polls_recount_can_count_by_another_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "poll-9.jsonl"
    path.write_text(write_published(POLL, "Ward panel", {}, stored_ballots(), random.Random(7)))
    assert cli_count.run(recount(path, "--method", "borda", "--question", "21")) == 0
    final = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [r["result"]["method"] for r in final["results"]] == ["borda"]


def test_polls_recount_counts_an_interchange_file_with_the_seats_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ward.soi"
    path.write_text("# NUMBER ALTERNATIVES: 3\n4: 1,2\n3: 2\n2: 3,1\n")
    assert cli_count.run(recount(path, "--seats", "2")) == 0
    final = json.loads(capsys.readouterr().out.splitlines()[-1])
    result = final["results"][0]["result"]
    assert result["method"] == "stv" and result["quota"] == 4 and result["elected"] == [1, 2]


def test_polls_recount_names_the_line_of_a_malformed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ward.blt"
    path.write_text("3 1\n1 1 4 0\n0\n")
    assert cli_count.run(recount(path)) == 1
    assert capsys.readouterr().err == f"polls recount: {path}, line 2: candidate 4 is not between 1 and 3\n"


def test_polls_recount_refuses_a_method_that_fits_no_question(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ward.soi"
    path.write_text("# NUMBER ALTERNATIVES: 2\n1: 1\n")
    assert cli_count.run(recount(path, "--method", "greedy")) == 2
    assert "greedy cannot count any question" in capsys.readouterr().err
