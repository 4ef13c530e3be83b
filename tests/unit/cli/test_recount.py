"""`polls recount` on files made elsewhere: pabulib files count by the rule they name and are
checked against their official selection.

No real pabulib files can be fetched here (no network), so the city files are generated in
pabulib's format: a city-sized question (hundreds of voters, a dozen costed projects, voters
who favour their own district's projects), its official selection worked out by pabutools with
the settings cities use (cost utilities, add1), written in the ``selected`` column.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
from pabutools.rules import exhaustion_by_budget_increase, method_of_equal_shares

from polls.cli import main
from polls.domain.ballot_files import read_pabulib
from polls.domain.counting import official
from polls.domain.counting.shares_variants import Variant


def city(seed: int) -> tuple[list[int], int, list[list[int]]]:
    rng = random.Random(seed)
    districts = 3
    costs = [rng.randrange(5, 120) * 1000 for _ in range(12)]
    voters = rng.randrange(200, 400)
    budget = (sum(costs) // 3 // voters) * voters  # a whole number per voter, as pabutools rises
    votes = []
    for _ in range(voters):
        home = rng.randrange(districts)
        liked = [p for p in range(12) if rng.random() < (0.5 if p % districts == home else 0.08)]
        votes.append(liked)
    return costs, budget, votes


def official_selection(costs: list[int], budget: int, votes: list[list[int]]) -> list[int]:
    projects = [Project(f"p{i:02d}", c) for i, c in enumerate(costs)]
    instance = Instance(projects, budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot([projects[p] for p in v]) for v in votes], instance=instance)
    chosen = exhaustion_by_budget_increase(
        instance, profile, method_of_equal_shares, {"sat_class": Cost_Sat}, budget_step=len(votes)
    )
    return sorted(int(p.name[1:]) for p in chosen)


def pabulib_text(
    costs: list[int], budget: int, votes: list[list[int]], rule: str, selected: list[int]
) -> str:
    lines = ["META", "key;value", "description;Generated city budget", f"num_projects;{len(costs)}"]
    lines += [f"num_votes;{len(votes)}", f"budget;{budget}", "vote_type;approval", f"rule;{rule}"]
    lines += ["PROJECTS", "project_id;cost;name;selected"]
    lines += [f"{p + 1};{c};Project {p + 1};{int(p in selected)}" for p, c in enumerate(costs)]
    lines += ["VOTES", "voter_id;vote"]
    lines += [f"{i};{','.join(str(p + 1) for p in v)}" for i, v in enumerate(votes, start=1)]
    return "\n".join(lines) + "\n"


def recount(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["recount", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_city_file_recounts_to_its_official_selection_by_the_rule_it_names(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    costs, budget, votes = city(seed)
    selected = official_selection(costs, budget, votes)
    path = tmp_path / "city.pb"
    path.write_text(pabulib_text(costs, budget, votes, "equalshares/add1", selected))
    code, out, _ = recount(path, capsys)
    assert code == 0
    assert "official selection (the file's selected column): the same projects" in out
    assert "variant: cost utilities" in out
    result = json.loads(out.splitlines()[-1])["results"][0]["result"]
    assert (result["utility"], result["completion"]) == ("cost", "add1")
    assert sorted(o - 1 for o in result["funded"]) == selected


@pytest.mark.slow
def test_approval_utilities_with_greedy_completion_miss_some_official_selections(tmp_path: Path) -> None:
    # what polls used to count for "equalshares": it reproduces none of the three cities exactly
    missed = 0
    for seed in (1, 2, 3):
        costs, budget, votes = city(seed)
        item = read_pabulib(pabulib_text(costs, budget, votes, "equalshares", [])).questions[0]
        old = Variant("approval", "add1_greedy")
        settings = dict(item.question.settings) | {
            "mes_utility": old.utility,
            "mes_completion": old.completion,
        }
        question = type(item.question)(1, item.question.kind, "", settings, item.question.options)
        result = official.count(question, item.ballots, "equal_shares")
        missed += sorted(o - 1 for o in result.funded) != official_selection(costs, budget, votes)
    assert missed >= 1


@pytest.mark.slow
def test_a_selection_that_differs_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    costs, budget, votes = city(1)
    selected = official_selection(costs, budget, votes)
    wrong = [p for p in range(len(costs)) if p not in selected][:1] + selected[1:]
    path = tmp_path / "city.pb"
    path.write_text(pabulib_text(costs, budget, votes, "equalshares/add1/cost", wrong))
    code, out, _ = recount(path, capsys)
    assert code == 0 and "official selection DIFFERS" in out


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("equalshares/add2", "the part 'add2' is unknown"),
        ("equalshares/add1/add1u", "the part 'add1u' repeats a choice"),
        ("equalshares//cost", "the part '' is unknown"),
        ("phragmen", "is not one polls counts"),
    ],
)
def test_a_malformed_rule_is_refused_naming_its_line(
    rule: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.pb"
    path.write_text(pabulib_text([10, 20], 30, [[0], [1]], rule, []))
    code, _, err = recount(path, capsys)
    assert code == 1 and "line 8" in err and message in err


@pytest.mark.parametrize(
    ("rule", "variant"),
    [
        ("equalshares", ("cost", "add1")),
        ("EqualShares/add1u", ("cost", "add1_greedy")),
        ("equalshares/approval/add1e", ("approval", "add1_exhaust")),
        ("equalshares/none/cost", ("cost", "none")),
    ],
)
def test_the_rule_gives_the_variant(rule: str, variant: tuple[str, str]) -> None:
    item = read_pabulib(pabulib_text([10, 20], 30, [[0], [1]], rule, [])).questions[0]
    assert item.method == "equal_shares"
    assert Variant.of(item.question.settings) == Variant(*variant)
    assert Variant(*variant).rule().startswith("equalshares/")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_blt_file_with_more_seats_than_candidates_says_seats_are_left_unfilled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "ward.blt", '2 3\n1 1 2 0\n2 2 0\n0\n"Ash"\n"Birch"\n"Ward 9"\n')
    code, out, _ = recount(path, capsys)
    assert code == 0 and "1 of 3 seats left unfilled (2 candidates, 2 elected)" in out
    assert json.loads(out.splitlines()[-1])["results"][0]["notes"] == [
        "1 of 3 seats left unfilled (2 candidates, 2 elected)"
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('0 1\n0\n"Empty ward"\n', "nothing to count: the file lists no candidates or options"),
        ('2 1\n0\n"Ash"\n"Birch"\n"No ballots"\n', "nothing to count: the file holds no valid ballots"),
    ],
)
def test_a_file_with_nothing_to_count_says_so(
    text: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = recount(write(tmp_path, "empty.blt", text), capsys)
    assert code == 0 and f"note: {said}" in out


TIED = """# DATA TYPE: toi
# NUMBER ALTERNATIVES: 3
# ALTERNATIVE NAME 1: Ash
# ALTERNATIVE NAME 2: Birch
# ALTERNATIVE NAME 3: Cedar
5: 1,{2,3}
6: 2
9: 3
2: 3,1
"""


def test_a_preflib_file_without_a_voter_count_says_it_cannot_check_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = recount(write(tmp_path, "ward.toi", TIED), capsys)
    assert code == 0 and out.startswith("note: the file does not say how many voters it holds")
    assert json.loads(out.splitlines()[-1])["notes"]


def test_recount_honours_the_rule_for_tied_ranks_and_the_transfer_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "ward.toi", TIED)
    _, scottish, _ = recount(path, capsys, "--method", "stv", "--seats", "2")
    _, meek, _ = recount(path, capsys, "--method", "stv", "--seats", "2", "--transfers", "meek")
    _, one_left, _ = recount(path, capsys, "--method", "stv", "--seats", "2", "--ranking-rule", "one_left")
    assert "Scottish rule: a ballot counts up to its first tied" in scottish
    assert "Meek's method" in meek and "keep values" in meek
    last = json.loads(one_left.splitlines()[-1])["results"][0]
    assert last["settings"]["ranking_rule"] == "one_left"
    assert "a tied rank counts for the one tied option still in the count" in one_left
