"""Instant-runoff (the alternative vote): one seat, the option with fewest votes is excluded until one
option has more than half of the ballots still in the count.

Rules followed, round by round:

1. Each ballot counts for its highest-ranked option still in the count (a *continuing* option).
   A ballot with no continuing option left is exhausted and no longer counts.
2. If one option has more than half of the ballots still counting, or is the only continuing
   option, it is elected and the count ends.
3. Otherwise the option with the fewest votes is excluded and its ballots move to their next
   continuing preference. A tie for fewest is broken as the Scottish STV rules break one
   (rule 52 of the 2011 Order): the option with fewer votes at the most recent earlier round at
   which the tied options had unequal votes is excluded; if they were equal in every round, the
   lot order decides (``ties``) and the last of them in that order is excluded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polls.domain.counting.papers import ONE, Papers
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.ties import Lot, Tie, by_earlier_stage


@dataclass(frozen=True)
class RunoffRound:
    number: int
    votes: dict[int, int]  # each continuing option's votes in this round
    exhausted: int  # ballots no longer counting, so far
    elected: int | None
    excluded: int | None
    transfers: dict[int, int]  # the excluded option's ballots, by the option they moved to
    non_transferable: int  # the excluded option's ballots with no preference left
    tie: Tie | None


@dataclass(frozen=True)
class InstantRunoffResult:
    method: str
    ballots: int
    winner: int | None
    rounds: tuple[RunoffRound, ...]
    lot: Lot


def instant_runoff(ballots: RankedBallots, lot: Lot | None = None) -> InstantRunoffResult:
    lot = lot or ballots.lot()
    papers = Papers(ballots)
    options = ballots.options
    rounds: list[RunoffRound] = []
    history: list[dict[int, int]] = []
    winner = None
    while ballots.total and papers.continuing.any():
        totals = papers.totals() // ONE
        votes = {o: int(totals[i]) for i, o in enumerate(options) if papers.continuing[i]}
        history.append(votes)
        counting = sum(votes.values())
        leader = max(votes, key=lambda o: votes[o])
        if len(votes) == 1 or 2 * votes[leader] > counting:
            winner = leader
            exhausted = ballots.total - counting
            rounds.append(RunoffRound(len(rounds) + 1, votes, exhausted, leader, None, {}, 0, None))
            break
        fewest = min(votes.values())
        tied = tuple(o for o in options if votes.get(o) == fewest)
        excluded, tie = tied[0], None
        if len(tied) > 1:
            narrowed = by_earlier_stage(tied, history, lowest=True)
            decided_by = "earlier stage" if len(narrowed) == 1 else "lot"
            excluded = narrowed[0] if len(narrowed) == 1 else lot.loser(narrowed)
            tie = Tie(len(rounds) + 1, "exclusion", tied, decided_by, excluded)
        i = papers.index[excluded]
        papers.continuing[i] = False
        rows = papers.ballots_in(i)
        moved_to = papers.move_on(rows)
        counts = papers.count[rows]
        received = np.bincount(moved_to[moved_to >= 0], weights=counts[moved_to >= 0], minlength=len(options))
        transfers = {o: int(received[j]) for j, o in enumerate(options) if papers.continuing[j]}
        rounds.append(
            RunoffRound(
                number=len(rounds) + 1,
                votes=votes,
                exhausted=ballots.total - counting,
                elected=None,
                excluded=excluded,
                transfers=transfers,
                non_transferable=int(counts[moved_to < 0].sum()),
                tie=tie,
            )
        )
    return InstantRunoffResult("instant_runoff", ballots.total, winner, tuple(rounds), lot)
