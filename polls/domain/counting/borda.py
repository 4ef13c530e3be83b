"""Borda count, in its modified form (Emerson's MBC) so that partial rankings are fair.

A ballot that ranks k options gives k points to its first preference, k - 1 to its second,
and so on down to 1 point for its last; options it leaves unranked get nothing. A voter who
ranks only one option therefore gives it 1 point, not the full n - 1, so ranking everything is
never a disadvantage. With complete rankings this is the classic Borda count plus one point per
option per ballot, which orders the options identically. Equal points are ordered by lot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polls.domain.counting.pairwise import positions
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.ties import Lot, Tie, order_by_votes


@dataclass(frozen=True)
class BordaResult:
    method: str
    ballots: int
    points: dict[int, int]
    ranking: tuple[int, ...]  # most points first; equal points in lot order
    winner: int | None
    tie: Tie | None
    lot: Lot


def borda(ballots: RankedBallots, lot: Lot | None = None) -> BordaResult:
    lot = lot or ballots.lot()
    place, counts = positions(ballots)
    m = len(ballots.options)
    ranked = (place < m).sum(axis=1, keepdims=True)
    points_each = np.where(place < m, ranked - place, 0)
    totals = (points_each * counts[:, None]).sum(axis=0)
    points = {o: int(totals[i]) for i, o in enumerate(ballots.options)}
    ranking, tie = order_by_votes(points, lot)
    return BordaResult(
        method="borda",
        ballots=ballots.total,
        points=points,
        ranking=ranking,
        winner=ranking[0] if ballots.total else None,
        tie=tie if ballots.total else None,
        lot=lot,
    )
