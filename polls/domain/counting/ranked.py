"""Ranked ballots gathered for counting: each distinct ranking once, with how many voters cast it.

A hundred thousand ballots over ten options usually hold far fewer distinct rankings, and every
ranked method treats identical ballots identically, so counting works on the distinct ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from polls.domain.counting.ties import Lot, seed_of

Ranking = tuple[int, ...]  # option ids, best first


@dataclass(frozen=True)
class RankedBallots:
    options: tuple[int, ...]  # as listed on the ballot
    rankings: tuple[tuple[Ranking, int], ...]  # distinct non-empty rankings and their counts, sorted
    total: int  # valid ballots: those with a first preference

    @classmethod
    def of(cls, options: Iterable[int], ballots: Iterable[Sequence[int]]) -> RankedBallots:
        """From one ranking per ballot."""
        return cls.weighted(options, Counter(map(tuple, ballots)).items())

    @classmethod
    def weighted(cls, options: Iterable[int], ballots: Iterable[tuple[Sequence[int], int]]) -> RankedBallots:
        """From (ranking, number of ballots) pairs. An empty ranking has no first preference and is
        not a valid vote, so it is left out."""
        listed = tuple(options)
        known = frozenset(listed)
        if len(known) != len(listed):
            raise ValueError("an option is listed twice")
        counts: dict[Ranking, int] = {}
        for ranking, n in ballots:
            key = tuple(ranking)
            counts[key] = counts.get(key, 0) + n
        for key, n in counts.items():  # checked once per distinct ranking, not per ballot
            if n < 0:
                raise ValueError("a ballot count cannot be negative")
            if len(set(key)) != len(key):
                raise ValueError(f"ranking {list(key)} ranks an option twice")
            if not known.issuperset(key):
                raise ValueError(f"ranking {list(key)} names an option that is not listed")
        rankings = tuple(sorted((r, n) for r, n in counts.items() if r and n))
        return cls(options=listed, rankings=rankings, total=sum(n for _, n in rankings))

    def lot(self) -> Lot:
        seed = seed_of("ranked", self.options, dict(self.rankings))
        return Lot.draw(self.options, seed)

    def first_preferences(self) -> dict[int, int]:
        counts = dict.fromkeys(self.options, 0)
        for ranking, n in self.rankings:
            counts[ranking[0]] += n
        return counts
