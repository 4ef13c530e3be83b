"""Ranked ballots gathered for counting: each distinct ranking once, with how many voters cast it.

A hundred thousand ballots over ten options usually hold far fewer distinct rankings, and every
ranked method treats identical ballots identically, so counting works on the distinct ones.
Ballots with tied or skipped ranks are read by the question's rule (``rules``) as they are
gathered; only the ``one_left`` rule keeps some ties to the count (``tied``), for the methods that
exclude options (instant runoff, STV) to settle as options leave the count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from polls.domain.counting.rules import DEFAULT_RANKING_RULE, RANKING_RULES, Marked, read_marked
from polls.domain.counting.ties import Lot, seed_of

Ranking = tuple[int, ...]  # option ids, best first
Answer = Sequence[int | Sequence[int]]  # ranks best first: an option, or a group (tied or skipped)


@dataclass(frozen=True)
class RankedBallots:
    options: tuple[int, ...]  # as listed on the ballot
    rankings: tuple[tuple[Ranking, int], ...]  # distinct non-empty rankings and their counts, sorted
    total: int  # valid ballots: those with a first preference
    tied: tuple[tuple[Marked, int], ...] = ()  # one_left ballots still holding a tie, and counts
    rule: str = DEFAULT_RANKING_RULE  # how tied or skipped ranks were read

    @classmethod
    def of(cls, options: Iterable[int], ballots: Iterable[Sequence[int]]) -> RankedBallots:
        """From one ranking per ballot."""
        return cls.weighted(options, Counter(map(tuple, ballots)).items())

    @classmethod
    def weighted(
        cls, options: Iterable[int], ballots: Iterable[tuple[Answer, int]], rule: str = DEFAULT_RANKING_RULE
    ) -> RankedBallots:
        """From (ranking, number of ballots) pairs, each rank an option or a group of options (a
        tie, or an empty group: a skipped rank). A ranking left with no first preference is not a
        valid vote, so it is left out."""
        listed = tuple(options)
        known = frozenset(listed)
        if len(known) != len(listed):
            raise ValueError("an option is listed twice")
        if rule not in RANKING_RULES:
            raise ValueError(f"the rule for tied or skipped ranks is one of {', '.join(RANKING_RULES)}")
        counts: dict[tuple[Any, ...], int] = {}
        for ranking, n in ballots:
            key = tuple(r if isinstance(r, int) else tuple(r) for r in ranking)
            counts[key] = counts.get(key, 0) + n
        plain: dict[Ranking, int] = {}
        tied: dict[Marked, int] = {}
        for key, n in counts.items():  # checked once per distinct ranking, not per ballot
            named = [o for r in key for o in ((r,) if isinstance(r, int) else r)]
            if n < 0:
                raise ValueError("a ballot count cannot be negative")
            if len(set(named)) != len(named):
                raise ValueError(f"ranking {list(key)} ranks an option twice")
            if not known.issuperset(named):
                raise ValueError(f"ranking {list(key)} names an option that is not listed")
            if all(isinstance(r, int) for r in key):
                strict = tuple(r for r in key if isinstance(r, int))
                plain[strict] = plain.get(strict, 0) + n
                continue
            ranking, marked = read_marked(rule, [(r,) if isinstance(r, int) else r for r in key])
            if marked is None:
                plain[ranking] = plain.get(ranking, 0) + n
            else:
                tied[marked] = tied.get(marked, 0) + n
        rankings = tuple(sorted((r, n) for r, n in plain.items() if r and n))
        kept = tuple(sorted((m, n) for m, n in tied.items() if n))
        total = sum(n for _, n in rankings) + sum(n for _, n in kept)
        return cls(options=listed, rankings=rankings, total=total, tied=kept, rule=rule)

    def strict(self) -> RankedBallots:
        """For the counts that exclude nobody: every option is in the count, so a tie still held
        ends the ballot there."""
        if not self.tied:
            return self
        plain = dict(self.rankings)
        for marked, n in self.tied:
            prefix = tuple(g[0] for g in marked[: next(i for i, g in enumerate(marked) if len(g) > 1)])
            plain[prefix] = plain.get(prefix, 0) + n
        return RankedBallots(self.options, tuple(sorted(plain.items())), self.total, (), self.rule)

    def lot(self) -> Lot:
        # ties kept to the count join the seed; without them it is what it always was
        extra = {"tied": [[[list(g) for g in m], n] for m, n in self.tied]} if self.tied else None
        seed = seed_of("ranked", self.options, dict(self.rankings), extra)
        return Lot.draw(self.options, seed)

    def first_preferences(self) -> dict[int, int]:
        counts = dict.fromkeys(self.options, 0)
        for ranking, n in self.rankings:
            counts[ranking[0]] += n
        for marked, n in self.tied:
            counts[marked[0][0]] += n
        return counts
