"""Schulze method (beat path), offered as a comparison: a full ranking built from head-to-head results.

The strength of a direct win of a over b is its margin: ballots preferring a to b minus those
preferring b to a (only positive margins are links). A path's strength is its weakest link; a
beats b when the strongest path from a to b is stronger than the strongest back. The winners
are the options nobody beats. The ranking is built in tiers: the winners, then the options
nobody else left beats, and so on (the beat relation is transitive, so this always ends); the
single order breaks each tier by lot.
"""

from __future__ import annotations

from dataclasses import dataclass

from polls.domain.counting.pairwise import preferring
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.ties import Lot, Tie


@dataclass(frozen=True)
class SchulzeResult:
    method: str
    ballots: int
    winners: tuple[int, ...]  # beaten by no other option
    winner: int | None  # the first of the winners in lot order
    tiers: tuple[tuple[int, ...], ...]  # best first
    order: tuple[int, ...]  # tiers broken by lot
    strongest_paths: dict[int, dict[int, int]]
    tie: Tie | None
    lot: Lot


def schulze(ballots: RankedBallots, lot: Lot | None = None) -> SchulzeResult:
    lot = lot or ballots.lot()
    options = ballots.options
    prefer = preferring(ballots)
    path = {a: {b: max(prefer[a][b] - prefer[b][a], 0) for b in options if b != a} for a in options}
    for k in options:  # Floyd-Warshall for widest paths
        for a in options:
            if a == k:
                continue
            for b in options:
                if b not in (a, k):
                    path[a][b] = max(path[a][b], min(path[a][k], path[k][b]))
    tiers: list[tuple[int, ...]] = []
    left = list(options)
    while left:
        unbeaten = tuple(o for o in left if all(path[o][b] >= path[b][o] for b in left if b != o))
        tiers.append(tuple(sorted(unbeaten, key=lot.place)))
        left = [o for o in left if o not in unbeaten]
    winners = tuple(o for o in options if o in tiers[0]) if tiers else ()
    winner = lot.winner(winners) if winners and ballots.total else None
    tie = Tie(0, "winner", winners, "lot", winner) if winner is not None and len(winners) > 1 else None
    return SchulzeResult(
        method="schulze",
        ballots=ballots.total,
        winners=winners,
        winner=winner,
        tiers=tuple(tiers),
        order=tuple(o for tier in tiers for o in tier),
        strongest_paths=path,
        tie=tie,
        lot=lot,
    )
