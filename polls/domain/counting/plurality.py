"""Plurality: the option chosen by most ballots wins (single-choice questions, or first preferences)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from polls.domain.counting.ties import Lot, Tie, order_by_votes, seed_of


@dataclass(frozen=True)
class PluralityResult:
    method: str
    ballots: int
    votes: dict[int, int]  # every option, as listed
    ranking: tuple[int, ...]  # most votes first; equal votes in lot order
    winner: int | None  # None when no ballot chose anything
    tie: Tie | None  # a tie for first place, decided by lot
    lot: Lot


def plurality(options: Iterable[int], choices: Iterable[tuple[int, int]]) -> PluralityResult:
    """Count (option chosen, number of ballots) pairs."""
    votes = dict.fromkeys(options, 0)
    for option, n in choices:
        if option not in votes:
            raise ValueError(f"option {option} is not listed")
        votes[option] += n
    lot = Lot.draw(votes, seed_of("single", votes, votes))
    ranking, tie = order_by_votes(votes, lot)
    ballots = sum(votes.values())
    return PluralityResult(
        method="plurality",
        ballots=ballots,
        votes=votes,
        ranking=ranking,
        winner=ranking[0] if ballots else None,
        tie=tie if ballots else None,
        lot=lot,
    )
