"""Approval: each ballot supports any number of options; the option supported by most ballots wins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from polls.domain.counting.ties import Lot, Tie, order_by_votes, seed_of


@dataclass(frozen=True)
class ApprovalResult:
    method: str
    ballots: int
    votes: dict[int, int]  # ballots supporting each option, as listed
    ranking: tuple[int, ...]  # most support first; equal support in lot order
    winner: int | None
    tie: Tie | None
    lot: Lot


def approval(options: Iterable[int], ballots: Iterable[tuple[Sequence[int], int]]) -> ApprovalResult:
    """Count (options supported, number of ballots) pairs."""
    votes = dict.fromkeys(options, 0)
    distinct: dict[tuple[int, ...], int] = {}
    for chosen, n in ballots:
        key = tuple(sorted(chosen))
        if len(set(key)) != len(key):
            raise ValueError(f"ballot {list(key)} supports an option twice")
        for option in key:
            if option not in votes:
                raise ValueError(f"option {option} is not listed")
            votes[option] += n
        distinct[key] = distinct.get(key, 0) + n
    lot = Lot.draw(votes, seed_of("multiple", votes, distinct))
    ranking, tie = order_by_votes(votes, lot)
    supported = any(votes.values())
    return ApprovalResult(
        method="approval",
        ballots=sum(distinct.values()),
        votes=votes,
        ranking=ranking,
        winner=ranking[0] if supported else None,
        tie=tie if supported else None,
        lot=lot,
    )
