"""Deciding ties: a reproducible "lot" drawn from the ballots themselves, recorded with the result.

Where a method's own rules leave a tie (the Scottish STV rules say "the returning officer shall
decide by lot"), the tie is decided by the *lot order*: the options sorted by
SHA-256(seed ":" option id), smallest digest first. The first option in the lot order wins a
lot; the last loses it (is excluded first). The seed is the SHA-256 of the question's ballots in
canonical form (options and distinct answers with their counts, sorted), so the lot is fixed
before counting starts, cannot be steered by whoever runs the count, does not depend on the
order of ballots, and anyone holding the published ballot file computes the same seed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LOT_RULE = (
    "lot order: options sorted by SHA-256 of '<seed>:<option id>', smallest first; the first wins a lot, "
    "the last loses it; the seed is the SHA-256 of the question's ballots in canonical form"
)


@dataclass(frozen=True)
class Lot:
    """The lot order for one count, drawn once before counting."""

    seed: str
    order: tuple[int, ...]
    rule: str = LOT_RULE

    @classmethod
    def draw(cls, options: Iterable[int], seed: str) -> Lot:
        def digest(option: int) -> str:
            return hashlib.sha256(f"{seed}:{option}".encode()).hexdigest()

        return cls(seed=seed, order=tuple(sorted(options, key=digest)))

    def place(self, option: int) -> int:
        return self.order.index(option)

    def winner(self, tied: Iterable[int]) -> int:
        return min(tied, key=self.order.index)

    def loser(self, tied: Iterable[int]) -> int:
        return max(tied, key=self.order.index)


@dataclass(frozen=True)
class Tie:
    """One tie met during a count and how it was decided."""

    stage: int  # the stage or round it arose in; 0: the final ordering; equal shares: the run's number
    # of rises (-1: the greedy completion)
    about: str  # what was being decided, e.g. "exclusion", "surplus order", "winner"
    among: tuple[int, ...]
    decided_by: str  # "earlier stage" or "lot"
    chosen: int


def seed_of(kind: str, options: Iterable[int], counts: Mapping[Any, int], extra: Any = None) -> str:
    """The lot seed: SHA-256 of the compact JSON of the ballots in canonical form, that is
    {"kind", "options": ids sorted, "ballots": [[answer, count], ...] sorted by answer, "extra"}
    (answers are numbers or lists of option ids; lists sort element by element)."""
    ballots = sorted([list(a) if isinstance(a, tuple) else a, n] for a, n in counts.items() if n)
    canonical = {"kind": kind, "options": sorted(options), "ballots": ballots, "extra": extra}
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def by_earlier_stage(
    tied: Iterable[int], history: Sequence[Mapping[int, int]], *, lowest: bool
) -> tuple[int, ...]:
    """Narrow a tie by the most recent earlier stage at which the tied options had unequal votes.

    Looking back from the latest stage, at each stage where not all of them are equal keep those
    with the lowest (or highest) votes there; stop when one remains or the first stage is passed.
    Returns what remains tied (one option when the history decided it).
    """
    remaining = tuple(tied)
    for totals in reversed(history):
        values = [totals.get(o, 0) for o in remaining]
        if len(set(values)) > 1:
            extreme = min(values) if lowest else max(values)
            remaining = tuple(o for o, v in zip(remaining, values, strict=True) if v == extreme)
            if len(remaining) == 1:
                break
    return remaining


def order_by_votes(
    votes: Mapping[int, int], lot: Lot, about: str = "winner"
) -> tuple[tuple[int, ...], Tie | None]:
    """Options by votes, most first, equal votes in lot order; and the tie for first place, if any."""
    ranking = tuple(sorted(votes, key=lambda o: (-votes[o], lot.place(o))))
    if not ranking:
        return ranking, None
    top = tuple(o for o in ranking if votes[o] == votes[ranking[0]])
    tie = Tie(0, about, top, "lot", ranking[0]) if len(top) > 1 else None
    return ranking, tie
