"""`polls bench count`: the counting methods against the reference implementations, same input, same run.

Ranked: 100,000 ballots over 10 candidates, drawn from a Plackett-Luce model (some candidates
more popular) with short rankings more common than long ones, as in real STV elections; counted
by instant-runoff and by 3-seat STV (Scottish rules), and by pref_voting's ``instant_runoff``
and ``stv_scottish``. Budget: 10,000 voters supporting 1 to 8 of 60 projects, by the Method of
Equal Shares as cities count it (cost utilities, add1 completion), and by pabutools' same variant
(``method_of_equal_shares`` with ``Cost_Sat`` and a voter budget increment of 1; the budget is a
whole number per voter, so its rises are the reference's).

Our times include gathering the raw ballots into distinct rankings or approval sets; the
reference is given the distinct ballots already gathered (its profile is built untimed), so
the ratios, if anything, favour the reference. pref_voting runs in a child process (see
PREF_VOTING) and times itself there.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from polls.domain.counting.budget import BudgetBallots
from polls.domain.counting.equal_shares import equal_shares
from polls.domain.counting.instant_runoff import instant_runoff
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.stv import stv

TARGETS = {"instant_runoff": 1.0, "stv": 1.0, "equal_shares": 2.0}


def ranked_ballots(ballots: int, candidates: int, rng: random.Random) -> list[tuple[int, ...]]:
    popularity = [rng.uniform(0.5, 4.0) for _ in range(candidates)]
    lengths = [max(1, 30 - 4 * k) for k in range(candidates)]  # 1 preference most often
    out = []
    for _ in range(ballots):
        length = rng.choices(range(1, candidates + 1), weights=lengths)[0]
        left, weights, ranking = list(range(1, candidates + 1)), list(popularity), []
        for _ in range(length):
            i = rng.choices(range(len(left)), weights=weights)[0]
            ranking.append(left.pop(i))
            weights.pop(i)
        out.append(tuple(ranking))
    return out


def budget_ballots(voters: int, projects: int, rng: random.Random) -> tuple[list[int], list[tuple[int, ...]]]:
    costs = [rng.randrange(20, 400) * 1000 for _ in range(projects)]
    popularity = [rng.paretovariate(1.2) for _ in range(projects)]
    ballots = []
    for _ in range(voters):
        chosen: set[int] = set()
        wanted = rng.randint(1, 8)
        while len(chosen) < wanted:
            chosen.add(rng.choices(range(projects), weights=popularity)[0])
        ballots.append(tuple(sorted(chosen)))
    return costs, ballots


def _timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def run(
    ballots: int = 100_000,
    candidates: int = 10,
    seats: int = 3,
    voters: int = 10_000,
    projects: int = 60,
    budget: int = 1_000_000,
    seed: int = 5,
) -> dict[str, Any]:
    rng = random.Random(seed)
    rankings = ranked_ballots(ballots, candidates, rng)
    options = list(range(1, candidates + 1))
    irv, irv_s = _timed(lambda: instant_runoff(RankedBallots.of(options, rankings)))
    ours_stv, stv_s = _timed(lambda: stv(RankedBallots.of(options, rankings), seats))
    distinct = Counter(rankings)
    ref_irv, ref_stv, ref_irv_s, ref_stv_s = _pref_voting(options, distinct, seats)

    costs, approvals = budget_ballots(voters, projects, rng)
    listed = list(enumerate(costs, start=1))
    as_options = [tuple(p + 1 for p in chosen) for chosen in approvals]
    mes, mes_s = _timed(
        lambda: equal_shares(BudgetBallots.weighted(listed, budget, ((a, 1) for a in as_options)))
    )
    ref_mes, ref_mes_s = _pabutools(costs, approvals, budget)

    def ratio(reference: float, ours: float) -> float:
        return round(reference / ours, 1) if ours else 0.0

    figures: dict[str, Any] = {
        "ballots": ballots,
        "candidates": candidates,
        "distinct_rankings": len(distinct),
        "seats": seats,
        "voters": voters,
        "projects": projects,
        "instant_runoff_s": round(irv_s, 3),
        "instant_runoff_reference_s": round(ref_irv_s, 3),
        "instant_runoff_ratio": ratio(ref_irv_s, irv_s),
        "instant_runoff_agrees": ref_irv == [irv.winner],
        "stv_s": round(stv_s, 3),
        "stv_reference_s": round(ref_stv_s, 3),
        "stv_ratio": ratio(ref_stv_s, stv_s),
        "stv_agrees": sorted(ref_stv) == sorted(ours_stv.elected),
        "stv_stages": len(ours_stv.stages),
        "equal_shares_s": round(mes_s, 3),
        "equal_shares_reference_s": round(ref_mes_s, 3),
        "equal_shares_ratio": ratio(ref_mes_s, mes_s),
        "equal_shares_agrees": sorted(ref_mes) == sorted(mes.funded),
        "equal_shares_rises": mes.rises,
        "equal_shares_variant": f"{mes.utility}, {mes.completion}",
        "references": {"ranked": "pref_voting", "budget": "pabutools"},
    }
    figures["within_targets"] = irv_s < 1.0 and stv_s < 1.0 and mes_s < 2.0
    return figures


# pref_voting needs ortools, whose bundled HiGHS clashes with the highspy that pabutools (through
# pulp) and the sortition code load: the two cannot share a process, so pref_voting runs in its own.
PREF_VOTING = """
import json, random, sys, time
from pref_voting.iterative_methods import instant_runoff
from pref_voting.profiles_with_ties import ProfileWithTies
from pref_voting.proportional_methods import stv_scottish

job = json.load(sys.stdin)
rankings = [{c: place for place, c in enumerate(r, start=1)} for r in job["rankings"]]
profile = ProfileWithTies(rankings, rcounts=job["counts"], candidates=job["options"])
started = time.perf_counter()
winner = instant_runoff(profile)
irv_s = time.perf_counter() - started
started = time.perf_counter()
elected = stv_scottish(profile, num_seats=job["seats"], rng=random.Random(0))
stv_s = time.perf_counter() - started
json.dump({"winner": winner, "elected": elected, "irv_s": irv_s, "stv_s": stv_s}, sys.stdout, default=int)
"""


def _pref_voting(
    options: list[int], distinct: Counter[tuple[int, ...]], seats: int
) -> tuple[Any, Any, float, float]:
    job = {"options": options, "rankings": list(distinct), "counts": list(distinct.values()), "seats": seats}
    done = subprocess.run(
        [sys.executable, "-c", PREF_VOTING], input=json.dumps(job), capture_output=True, text=True, check=True
    )
    answer = json.loads(done.stdout)
    return answer["winner"], answer["elected"], answer["irv_s"], answer["stv_s"]


def _pabutools(costs: list[int], approvals: list[tuple[int, ...]], budget: int) -> tuple[list[int], float]:
    from pabutools.election import (  # type: ignore[import-untyped]
        ApprovalBallot,
        ApprovalProfile,
        Cost_Sat,
        Instance,
        Project,
    )
    from pabutools.rules import method_of_equal_shares  # type: ignore[import-untyped]

    projects = [Project(f"{i + 1:03d}", cost) for i, cost in enumerate(costs)]
    instance = Instance(projects, budget_limit=budget)
    profile = ApprovalProfile(
        [ApprovalBallot([projects[i] for i in a]) for a in approvals], instance=instance
    )

    def count() -> Any:
        return method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)

    funded, seconds = _timed(count)
    return [int(p.name) for p in funded], seconds


def report(figures: dict[str, Any]) -> str:
    f = figures
    lines = [
        f"{f['ballots']:,} ranked ballots over {f['candidates']} candidates "
        f"({f['distinct_rankings']:,} distinct); {f['projects']} projects, {f['voters']:,} voters",
        f"{'':34}{'polls s':>9}{'reference s':>13}{'ratio':>8}  reference, same answer",
    ]
    rows = [
        ("instant-runoff", "instant_runoff", "pref_voting instant_runoff"),
        (f"STV, {f['seats']} seats (Scottish rules)", "stv", "pref_voting stv_scottish"),
        ("equal shares, cost utilities, add1", "equal_shares", "pabutools MES Cost_Sat add1"),
    ]
    for title, key, reference in rows:
        same = "yes" if f[f"{key}_agrees"] else "NO"
        lines.append(
            f"{title:34}{f[f'{key}_s']:>9.3f}{f[f'{key}_reference_s']:>13.3f}{f[f'{key}_ratio']:>7}x  "
            f"{reference}, {same}"
        )
    targets = ", ".join(f"{key} under {limit:g} s" for key, limit in TARGETS.items())
    lines.append(f"targets ({targets}): {'met' if f['within_targets'] else 'MISSED'}")
    lines.append(json.dumps(figures))
    return "\n".join(lines)
