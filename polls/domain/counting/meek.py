"""Single transferable vote by Meek's method, as Hill, Wichmann and Woodall's Algorithm 123 (The
Computer Journal 30(3), 1987) sets it out; New Zealand counts its STV local elections this way.

Every candidate has a *keep value*: 1 while hopeful, 0 once excluded, and for an elected candidate
the share of each vote reaching them that they keep. Each ballot passes down its preferences:
a candidate keeps value x keep, and the rest goes on; what passes the last preference is excess
(non-transferable). So every elected candidate's voters share that candidate's surplus alike,
however late their ballots arrived, and votes passing an elected candidate go on to the next.

1. Quota = (total votes - excess) / (seats + 1), recomputed after each pass.
2. Passes repeat, each elected candidate's keep value becoming keep x quota / votes, until their
   surpluses add up to less than 0.00001 of a vote, stop falling, or a hopeful candidate reaches
   the quota. Every hopeful then at or above the quota is elected (most votes first).
3. When the surpluses are settled and seats remain, the hopeful with the fewest votes is excluded
   (keep value 0) and the passes start again. Equal fewest: fewer votes at the most recent stage
   where they differed, then the lot (``ties``), as the Scottish rules break such ties.
4. When the hopefuls are no more than the seats left, they are all elected.

Arithmetic is exact and fixed-point, as Algorithm 123 prescribes: values are whole numbers of
10^-9 of a vote; what a candidate keeps is rounded down, keep values are rounded up, and the
quota is rounded down and then raised by 10^-9.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.rules import Marked
from polls.domain.counting.ties import Lot, Tie, by_earlier_stage

RULES = "Meek's method (Hill, Wichmann and Woodall, Algorithm 123, 1987), as in New Zealand"
UNIT = 10**9  # one vote
SETTLED = 10**4  # surpluses below 0.00001 of a vote need no more passes
MAX_PASSES = 1000


@dataclass(frozen=True)
class MeekStage:
    number: int
    action: str  # "first preferences", "surplus" or "exclusion"
    candidate: int | None  # who was excluded
    quota: float
    votes: dict[int, float]  # every candidate's votes at the end of the stage
    keep_values: dict[int, float]  # of the elected candidates
    non_transferable: float  # excess added in this stage
    lost_to_rounding: float  # always 0: what rounding keeps back stays in the excess
    elected: tuple[int, ...]
    last_vacancies: bool
    tie: Tie | None


@dataclass(frozen=True)
class MeekResult:
    method: str
    transfers: str
    rules: str
    seats: int
    ballots: int
    quota: float  # at the end of the count
    elected: tuple[int, ...]
    stages: tuple[MeekStage, ...]
    lot: Lot


def _votes(units: int) -> float:
    return units / UNIT


class _Meek:
    def __init__(self, ballots: RankedBallots, seats: int, lot: Lot) -> None:
        self.options, self.seats, self.lot = ballots.options, seats, lot
        self.ballots: list[tuple[Marked, int]] = [(tuple((o,) for o in r), n) for r, n in ballots.rankings]
        self.ballots += list(ballots.tied)
        self.total = ballots.total * UNIT
        self.keep = dict.fromkeys(self.options, UNIT)
        self.elected: list[int] = []
        self.hopeful = list(self.options)
        self.votes, self.excess, self.quota = dict.fromkeys(self.options, 0), 0, 0
        self.history: list[dict[int, int]] = []
        self.stages: list[MeekStage] = []

    def distribute(self) -> None:
        votes, excess = dict.fromkeys(self.options, 0), 0
        for ranking, n in self.ballots:
            left = UNIT
            for group in ranking:
                candidate = self._at(group)
                if candidate is None:
                    continue
                if candidate < 0:
                    break
                kept = left * self.keep[candidate] // UNIT
                votes[candidate] += kept * n
                left -= kept
                if not left:
                    break
            excess += left * n
        self.votes, self.excess = votes, excess
        self.quota = (self.total - excess) // (self.seats + 1) + 1

    def _at(self, group: tuple[int, ...]) -> int | None:
        """The candidate a rank gives its vote to: None to pass over it, -1 to stop (a tie with
        more than one candidate still in the count)."""
        if len(group) == 1:
            return group[0] if self.keep[group[0]] else None
        left = [o for o in group if self.keep[o]]
        return left[0] if len(left) == 1 else None if not left else -1

    def converge(self) -> None:
        last = None
        for _ in range(MAX_PASSES):
            self.distribute()
            if any(self.votes[o] >= self.quota for o in self.hopeful):
                return
            surplus = sum(max(0, self.votes[o] - self.quota) for o in self.elected)
            if surplus < SETTLED or (last is not None and surplus >= last):
                return
            last = surplus
            for o in self.elected:
                if self.votes[o]:
                    self.keep[o] = min(UNIT, -(-self.keep[o] * self.quota // self.votes[o]))

    def stage(self, action: str, candidate: int | None, excess_before: int, tie: Tie | None) -> bool:
        """End a stage: elect whoever reached the quota; True when someone was."""
        self.history.append(dict(self.votes))
        reached = [o for o in self.hopeful if self.votes[o] >= self.quota]
        reached.sort(key=lambda o: (*(-h[o] for h in reversed(self.history)), self.lot.place(o)))
        self._elect(reached)
        last = 0 < len(self.hopeful) <= self.seats - len(self.elected)
        if last:
            ordered = sorted(self.hopeful, key=lambda o: (-self.votes[o], self.lot.place(o)))
            reached += ordered
            self._elect(ordered)
        self.stages.append(
            MeekStage(
                number=len(self.stages) + 1,
                action=action,
                candidate=candidate,
                quota=_votes(self.quota),
                votes={o: _votes(v) for o, v in self.votes.items()},
                keep_values={o: self.keep[o] / UNIT for o in self.elected},
                non_transferable=_votes(self.excess - excess_before),
                lost_to_rounding=0.0,
                elected=tuple(reached),
                last_vacancies=last,
                tie=tie,
            )
        )
        return bool(reached)

    def _elect(self, candidates: Sequence[int]) -> None:
        for o in candidates:
            self.elected.append(o)
            self.hopeful.remove(o)

    def exclude(self) -> tuple[int, Tie | None]:
        fewest = min(self.votes[o] for o in self.hopeful)
        tied = tuple(o for o in self.options if o in self.hopeful and self.votes[o] == fewest)
        chosen, tie = tied[0], None
        if len(tied) > 1:
            narrowed = by_earlier_stage(tied, self.history, lowest=True)
            how = "earlier stage" if len(narrowed) == 1 else "lot"
            chosen = narrowed[0] if len(narrowed) == 1 else self.lot.loser(narrowed)
            tie = Tie(len(self.stages) + 1, "exclusion", tied, how, chosen)
        self.keep[chosen] = 0
        self.hopeful.remove(chosen)
        return chosen, tie


def meek(ballots: RankedBallots, seats: int, lot: Lot | None = None) -> MeekResult:
    if seats < 1:
        raise ValueError("STV needs at least one seat")
    count = _Meek(ballots, seats, lot or ballots.lot())
    if ballots.total:
        count.converge()
        pending = count.stage("first preferences", None, 0, None)
        while len(count.elected) < seats and count.hopeful:
            before = count.excess
            if pending:  # newly elected: their surpluses pass on first
                count.converge()
                pending = count.stage("surplus", None, before, None)
                continue
            excluded, tie = count.exclude()
            count.converge()
            pending = count.stage("exclusion", excluded, before, tie)
    return MeekResult(
        method="stv",
        transfers="meek",
        rules=RULES,
        seats=seats,
        ballots=ballots.total,
        quota=_votes(count.quota),
        elected=tuple(count.elected),
        stages=tuple(count.stages),
        lot=count.lot,
    )
