"""Condorcet winner: the option that more ballots prefer to each other option, head to head.

Offered as a comparison beside the official method; often there is none (a cycle), and then
the result says so rather than picking one.
"""

from __future__ import annotations

from dataclasses import dataclass

from polls.domain.counting.pairwise import preferring
from polls.domain.counting.ranked import RankedBallots


@dataclass(frozen=True)
class CondorcetResult:
    method: str
    ballots: int
    winner: int | None  # None: no option beats every other
    wins: dict[int, int]  # head-to-head contests each option wins
    prefer: dict[int, dict[int, int]]  # prefer[a][b]: ballots preferring a to b


def condorcet(ballots: RankedBallots) -> CondorcetResult:
    prefer = preferring(ballots)
    wins = {a: sum(1 for b, n in row.items() if n > prefer[b][a]) for a, row in prefer.items()}
    beats_all = [a for a, w in wins.items() if w == len(ballots.options) - 1]
    return CondorcetResult(
        method="condorcet",
        ballots=ballots.total,
        winner=beats_all[0] if beats_all else None,
        wins=wins,
        prefer=prefer,
    )
