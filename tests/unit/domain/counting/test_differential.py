"""Differential tests: our counts against independent implementations on many random profiles.

pref_voting checks instant-runoff, Scottish STV, Borda, Condorcet and Schulze; pabutools checks
greedy allocation and the Method of Equal Shares in every variant polls offers (cost and approval
utilities; no completion, add1, add1 with exhaustion, add1 then greedy), with the reference's
tie-breaking (the cheaper project, then more supporters) given to pabutools as its rule.
POLLS_DIFFERENTIAL_PROFILES sets how many profiles each test draws (default 200; try 5000).

Every difference allowed below is a documented rule difference, asserted rather than skipped:

* Ties. pref_voting's instant_runoff drops all options tied for fewest votes at once; we exclude
  one, settled by the earlier round, then by lot. When our count met such a tie, our winner must
  be one of pref_voting's "parallel universe" winners (every way of breaking the ties).
  Scottish STV: both follow rules 50 and 52 (earlier stages), but a tie left to the lot is drawn
  from our lot order and from pref_voting's random generator, so when our count records a tie
  decided by lot the elected sets may differ; those counts are set aside (and counted).
* Borda: we use the modified Borda count (a ranking of k options gives k .. 1 points), which on
  complete rankings is pref_voting's Borda plus one point per ballot for every option.
* Greedy: pabutools also funds projects nobody voted for when they fit; we never fund those.
  Everything we fund pabutools funds, and the rest of what it funds has no votes.
* Equal shares, add1: the reference (equalshares.net) raises each share to floor(budget / voters)
  + 1, + 2, ...; pabutools to budget / voters + 1, + 2, ... So pabutools' budget increase is
  compared on budgets that are a whole number per voter, and on any budget we are compared with
  the reference's loop transcribed over pabutools' equal shares at each budget.
* Equal shares, pabutools' own add1 (voter_budget_increment) tests exhaustiveness only over
  projects someone supports, the reference over every listed project: it may stop earlier, while
  a project nobody supports still fits. Every such difference is asserted to be of that kind.
"""

from __future__ import annotations

import functools
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pabutools.election import (
    ApprovalBallot,
    ApprovalProfile,
    Cardinality_Sat,
    Cost_Sat,
    Instance,
    Project,
)
from pabutools.rules import exhaustion_by_budget_increase, greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.tiebreaking import TieBreakingRule

from polls.domain.counting.borda import borda
from polls.domain.counting.budget import BudgetBallots, greedy
from polls.domain.counting.condorcet import condorcet
from polls.domain.counting.equal_shares import equal_shares
from polls.domain.counting.instant_runoff import instant_runoff
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.schulze import schulze
from polls.domain.counting.shares_variants import Variant
from polls.domain.counting.stv import stv
from polls.domain.counting.ties import Lot

PROFILES = int(os.environ.get("POLLS_DIFFERENTIAL_PROFILES", "200"))

# pref_voting needs ortools, whose bundled HiGHS clashes with the highspy that pabutools (through
# pulp) and the sortition code load, so it answers from a child process: one per test, given a
# list of jobs on standard input, answering a list on standard output.
PREF_VOTING = """
import json, random, sys
from pref_voting.iterative_methods import instant_runoff, instant_runoff_put
from pref_voting.margin_based_methods import beat_path
from pref_voting.profiles import Profile
from pref_voting.profiles_with_ties import ProfileWithTies
from pref_voting.proportional_methods import stv_scottish

def profile(job):
    if job["complete"]:
        return Profile(job["ballots"])
    rankings = [{c: place for place, c in enumerate(r, start=1)} for r in job["ballots"]]
    with_ties = ProfileWithTies(rankings, candidates=list(range(job["m"])))
    with_ties.use_extended_strict_preference()
    return with_ties

def answer(job):
    p = profile(job)
    if job["method"] == "stv":
        return stv_scottish(p, num_seats=job["seats"], rng=random.Random(0))
    if job["method"] == "instant_runoff":
        return {"winners": instant_runoff(p), "every_way": instant_runoff_put(p)}
    answer = {"condorcet": p.condorcet_winner(), "beat_path": beat_path(p)}
    if job["complete"]:
        answer["borda"] = p.borda_scores()
    return answer

json.dump([answer(job) for job in json.load(sys.stdin)], sys.stdout, default=int)
"""

pytestmark = pytest.mark.slow


def pref_voting(jobs: list[dict[str, Any]]) -> list[Any]:
    done = subprocess.run(
        [sys.executable, "-c", PREF_VOTING], input=json.dumps(jobs), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def ranked_profiles(seed: int, *, complete: bool) -> Iterator[tuple[int, list[tuple[int, ...]]]]:
    """Random profiles, some candidates more popular than others (Plackett-Luce), so that
    transfers and close counts both happen."""
    rng = random.Random(seed)
    for _ in range(PROFILES):
        m = rng.randint(3, 6)
        popularity = [rng.uniform(0.3, 3.0) for _ in range(m)]
        ballots = []
        for _ in range(rng.randint(5, 300)):
            length = m if complete else rng.randint(1, m)
            left, weights, ranking = list(range(m)), list(popularity), []
            for _ in range(length):
                i = rng.choices(range(len(left)), weights=weights)[0]
                ranking.append(left.pop(i))
                weights.pop(i)
            ballots.append(tuple(ranking))
        yield m, ballots


@functools.cache
def ranked_cases() -> dict[str, list[dict[str, Any]]]:
    """Every pref_voting job of this module, by test, so that one child process answers them all."""
    rng = random.Random(2)
    cases: dict[str, list[dict[str, Any]]] = {}
    for complete in (True, False):
        for method, seed in (("instant_runoff", 1), ("stv", 3), ("pairwise", 4)):
            cases[f"{method}/{complete}"] = [
                {"method": method, "m": m, "ballots": b, "complete": complete, "seats": rng.randint(1, m - 1)}
                for m, b in ranked_profiles(seed, complete=complete)
            ]
    return cases


@functools.cache
def reference() -> dict[str, list[Any]]:
    cases = ranked_cases()
    answers = iter(pref_voting([job for jobs in cases.values() for job in jobs]))
    return {name: [next(answers) for _ in jobs] for name, jobs in cases.items()}


def ranked_case(method: str, complete: bool) -> Iterator[tuple[int, list[tuple[int, ...]], int, Any]]:
    name = f"{method}/{complete}"
    for job, theirs in zip(ranked_cases()[name], reference()[name], strict=True):
        yield job["m"], [tuple(b) for b in job["ballots"]], job["seats"], theirs


@pytest.mark.parametrize("complete", [True, False], ids=["complete", "truncated"])
def test_instant_runoff_agrees_with_pref_voting(complete: bool) -> None:
    tied = 0
    for m, ballots, _, theirs in ranked_case("instant_runoff", complete):
        ours = instant_runoff(RankedBallots.of(range(m), ballots))
        if any(r.tie for r in ours.rounds):
            tied += 1
            assert ours.winner in theirs["every_way"]  # documented: ties broken one at a time
        else:
            assert theirs["winners"] == [ours.winner]
    assert tied < PROFILES / 2


@pytest.mark.parametrize("complete", [True, False], ids=["complete", "truncated"])
def test_scottish_stv_agrees_with_pref_voting(complete: bool) -> None:
    by_lot = 0
    for m, ballots, seats, theirs in ranked_case("stv", complete):
        ours = stv(RankedBallots.of(range(m), ballots), seats)
        if any(s.tie is not None and s.tie.decided_by == "lot" for s in ours.stages):
            by_lot += 1  # documented: a lot is drawn differently; nothing to compare
            continue
        assert sorted(theirs) == sorted(ours.elected), (seats, ballots)
    assert by_lot < PROFILES / 4


@pytest.mark.parametrize("complete", [True, False], ids=["complete", "truncated"])
def test_borda_condorcet_and_schulze_agree_with_pref_voting(complete: bool) -> None:
    for m, ballots, _, theirs in ranked_case("pairwise", complete):
        ranked = RankedBallots.of(range(m), ballots)
        assert condorcet(ranked).winner == theirs["condorcet"]
        assert sorted(schulze(ranked).winners) == theirs["beat_path"]
        if complete:  # documented: the modified count gives one more point per ballot to each
            assert borda(ranked).points == {c: theirs["borda"][str(c)] + len(ballots) for c in range(m)}


def budget_profiles(
    seed: int, *, divisible: bool = False
) -> Iterator[tuple[list[int], int, list[tuple[int, ...]]]]:
    """Random budget questions; with ``divisible`` the budget is a whole number per voter, where
    pabutools' rises (budget / voters + 1, + 2, ...) are the reference's (floor + 1, + 2, ...)."""
    rng = random.Random(seed)
    for _ in range(PROFILES):
        m = rng.randint(2, 8)
        costs = [rng.randint(1, 40) * rng.choice([1, 5, 25]) for _ in range(m)]
        budget = rng.randint(max(costs), sum(costs))
        popularity = [rng.uniform(0.1, 1.0) for _ in range(m)]
        votes = [
            tuple(p for p in range(m) if rng.random() < popularity[p]) for _ in range(rng.randint(1, 40))
        ]
        if divisible:
            budget = max(1, budget // len(votes)) * len(votes)
        yield costs, budget, votes


def pabutools_election(costs: list[int], budget: int, votes: list[tuple[int, ...]]) -> tuple[Any, Any, Any]:
    projects = [Project(f"p{i:02d}", cost) for i, cost in enumerate(costs)]  # names sort as listed
    instance = Instance(projects, budget_limit=budget)
    profile = ApprovalProfile([ApprovalBallot([projects[p] for p in v]) for v in votes], instance=instance)
    return instance, profile, projects


def ours_for(costs: list[int], budget: int, votes: list[tuple[int, ...]]) -> tuple[BudgetBallots, Lot]:
    ballots = BudgetBallots.weighted(list(enumerate(costs)), budget, [(v, 1) for v in votes])
    return ballots, Lot("listed order, as pabutools' lexicographic tie-breaking", tuple(range(len(costs))))


def funded(allocation: Any) -> list[int]:
    return [int(p.name[1:]) for p in allocation]


def reference_ties(costs: list[int], votes: list[tuple[int, ...]]) -> TieBreakingRule:
    """The reference's tie-breaking (cheaper, then more supporters), then listed order (our lot)."""
    backing = [sum(p in v for v in votes) for p in range(len(costs))]

    def key(instance: Any, profile: Any, project: Any) -> Any:
        i = int(project.name[1:])
        return (costs[i], -backing[i], i)

    return TieBreakingRule(key)


def mes_rule(utility: str, costs: list[int], votes: list[tuple[int, ...]]) -> dict[str, Any]:
    sat_class = Cost_Sat if utility == "cost" else Cardinality_Sat
    return {"sat_class": sat_class, "tie_breaking": reference_ties(costs, votes)}


def test_greedy_agrees_with_pabutools() -> None:
    unvoted_extras = 0
    for costs, budget, votes in budget_profiles(6):
        instance, profile, _ = pabutools_election(costs, budget, votes)
        ballots, lot = ours_for(costs, budget, votes)
        ours = list(greedy(ballots, lot).funded)
        theirs = funded(greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat))
        if theirs != ours:
            unvoted_extras += 1  # documented: pabutools funds unvoted projects that still fit
            assert theirs[: len(ours)] == ours and all(ballots.votes()[p] == 0 for p in theirs[len(ours) :])


@pytest.mark.parametrize("utility", ["cost", "approval"])
def test_equal_shares_without_completion_agrees_with_pabutools(utility: str) -> None:
    for costs, budget, votes in budget_profiles(7):
        instance, profile, _ = pabutools_election(costs, budget, votes)
        ballots, lot = ours_for(costs, budget, votes)
        ours = equal_shares(ballots, Variant(utility, "none"), lot=lot)
        theirs = funded(method_of_equal_shares(instance, profile, **mes_rule(utility, costs, votes)))
        assert [p.project for p in ours.purchases] == theirs


@pytest.mark.parametrize("completion", ["add1", "add1_exhaust"])
@pytest.mark.parametrize("utility", ["cost", "approval"])
def test_equal_shares_add1_agrees_with_pabutools_budget_increase(utility: str, completion: str) -> None:
    """pabutools' exhaustion_by_budget_increase, budget step one unit per voter, stopping at an
    exhaustive outcome (add1) or only at one that overspends (add1 with exhaustion). Both test
    exhaustiveness over every listed project, as the reference does. On budgets that are a whole
    number per voter their rises are the reference's; where every supported project is bought and
    an unsupported one still fits, pabutools rises to its bound and we stop: the outcome is the same."""
    for costs, budget, votes in budget_profiles(8, divisible=True):
        instance, profile, _ = pabutools_election(costs, budget, votes)
        ballots, lot = ours_for(costs, budget, votes)
        ours = equal_shares(ballots, Variant(utility, completion), lot=lot)
        theirs = exhaustion_by_budget_increase(
            instance,
            profile,
            method_of_equal_shares,
            rule_params=mes_rule(utility, costs, votes),
            exhaustive_stop=completion == "add1",
            budget_step=len(votes),
        )
        assert [p.project for p in ours.purchases] == funded(theirs)


def reference_add1(costs: list[int], budget: int, votes: list[tuple[int, ...]], utility: str) -> list[int]:
    """equalshares.net's add1 loop, transcribed, over pabutools' equal shares at each budget."""
    _, profile, projects = pabutools_election(costs, budget, votes)
    rule = mes_rule(utility, costs, votes)

    def run(total: int | float) -> list[int]:
        return funded(method_of_equal_shares(Instance(projects, budget_limit=total), profile, **rule))

    supported = {p for v in votes for p in v}
    outcome, n = run(budget), len(votes)
    total = budget // n * n  # "start with integral per-voter budget"
    while any(
        p not in outcome and sum(costs[q] for q in outcome) + costs[p] <= budget for p in range(len(costs))
    ):
        if set(outcome) == supported:  # the reference would rise for ever without a change
            break
        total += n
        more = run(total)
        if sum(costs[p] for p in more) > budget:
            break
        outcome = more
    return outcome


@pytest.mark.parametrize("utility", ["cost", "approval"])
def test_equal_shares_add1_agrees_with_the_reference_loop_on_any_budget(utility: str) -> None:
    for costs, budget, votes in budget_profiles(9):
        ballots, lot = ours_for(costs, budget, votes)
        ours = equal_shares(ballots, Variant(utility, "add1"), lot=lot)
        assert [p.project for p in ours.purchases] == reference_add1(costs, budget, votes, utility)


def test_pabutools_own_add1_differs_only_where_a_project_nobody_supports_still_fits() -> None:
    """method_of_equal_shares(voter_budget_increment=1) tests exhaustiveness over the projects
    someone supports; the reference (and we) over every listed project. So pabutools may stop
    earlier, while a project nobody supports would still fit; every difference is of that kind."""
    differences = 0
    for costs, budget, votes in budget_profiles(10, divisible=True):
        instance, profile, _ = pabutools_election(costs, budget, votes)
        ballots, lot = ours_for(costs, budget, votes)
        ours = [p.project for p in equal_shares(ballots, Variant("cost", "add1"), lot=lot).purchases]
        theirs = funded(
            method_of_equal_shares(
                instance, profile, voter_budget_increment=1, **mes_rule("cost", costs, votes)
            )
        )
        if ours != theirs:
            differences += 1
            left = budget - sum(costs[p] for p in theirs)
            unsupported = [p for p in range(len(costs)) if ballots.votes()[p] == 0]
            assert any(costs[p] <= left for p in unsupported)
    assert differences < PROFILES / 4


def test_equal_shares_with_add1_and_greedy_completion_agrees_with_pabutools() -> None:
    for costs, budget, votes in budget_profiles(11, divisible=True):
        instance, profile, _ = pabutools_election(costs, budget, votes)
        ballots, lot = ours_for(costs, budget, votes)
        ours = equal_shares(ballots, Variant("cost", "add1_greedy"), lot=lot)
        shares = exhaustion_by_budget_increase(
            instance,
            profile,
            method_of_equal_shares,
            rule_params=mes_rule("cost", costs, votes),
            budget_step=len(votes),
        )
        assert [p.project for p in ours.purchases] == funded(shares)
        completed = greedy_utilitarian_welfare(
            instance, profile, sat_class=Cost_Sat, initial_budget_allocation=shares
        )
        theirs = funded(completed)
        mine = list(ours.funded)
        assert theirs[: len(mine)] == mine  # documented: any extra pabutools funds has no votes
        assert all(ballots.votes()[p] == 0 for p in theirs[len(mine) :])
