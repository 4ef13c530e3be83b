"""Single transferable vote, counted by the Scottish STV rules used for local government elections:
The Scottish Local Government Elections Order 2011 (SSI 2011/399), Schedule 1, rules 46 to 53
(rules 45 to 52 of the 2007 Order they replaced, in the same words).

What is followed, rule by rule (a *stage* is the first count, or one transfer):

46  First stage: each valid ballot paper is credited, as one vote, to its first preference.
    A ballot with no first preference is not a valid paper and is not counted at all.
47  Quota = floor(valid papers / (seats + 1)) + 1.
48  A candidate whose votes equal or exceed the quota at the end of a stage is deemed elected.
49  If, at the end of a stage, an elected candidate's votes exceed the quota and vacancies
    remain, *all* the ballot papers that candidate holds are sorted by next available
    preference (for a continuing candidate) and transferred, each at a transfer value of
        (surplus x value of the paper when the candidate received it) / candidate's total votes,
    worked to five decimal places with any remainder ignored (truncated, never rounded). A
    first-preference paper has value 1. Papers with no next available preference are set
    aside as non-transferable. What truncation cuts off is reported as "lost to rounding"
    and the elected candidate is shown with the quota from then on.
50  With several surpluses, the largest is transferred first, one per stage; elections are
    checked after every stage. Equal surpluses: the candidate with more votes at the most
    recent preceding stage where they had unequal votes goes first; equal at every stage:
    decided by lot.
51  When no surplus is left to transfer and vacancies remain, the candidate with the fewest
    votes is excluded and all their papers are transferred, in one stage, to the next available
    preference at the value each had when received (1 for first preferences).
52  Equal fewest: the candidate with fewer votes at the most recent preceding stage where they
    had unequal votes is excluded; equal at every stage: decided by lot. With three or more
    tied, that is applied repeatedly: at each earlier stage where they are not all equal, those
    with the fewest votes there remain tied, until one is left.
53  When the continuing candidates are no more than the vacancies left, they are all deemed
    elected and no further transfer is made (this also covers fewer candidates than seats).

"Decided by lot" uses the lot order of ``ties``: for surpluses the first of the tied candidates
in that order goes first; for exclusions the last of them is excluded. Every tie is recorded.
Arithmetic is exact: paper values are whole numbers of hundred-thousandths of a vote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polls.domain.counting.papers import ONE, Ints, Papers
from polls.domain.counting.ranked import RankedBallots
from polls.domain.counting.ties import Lot, Tie, by_earlier_stage

RULES = "Scottish Local Government Elections Order 2011, Schedule 1, rules 46-53"


@dataclass(frozen=True)
class Stage:
    number: int
    action: str  # "first preferences", "surplus" or "exclusion"
    candidate: int | None  # whose surplus was transferred, or who was excluded
    transfer_values: tuple[float, ...]  # surplus stages: the values given to papers, highest first
    transfers: dict[int, float]  # votes each continuing candidate received in this stage
    non_transferable: float  # votes set aside in this stage: papers with no next preference
    lost_to_rounding: float  # surplus cut off by truncating transfer values
    votes: dict[int, float]  # every candidate's votes at the end of the stage
    elected: tuple[int, ...]  # deemed elected at the end of this stage
    last_vacancies: bool  # elected under rule 53, without reaching the quota
    tie: Tie | None


@dataclass(frozen=True)
class STVResult:
    method: str
    transfers: str  # "scottish" (this module) or "meek"
    rules: str
    seats: int
    ballots: int  # valid ballot papers
    quota: int
    elected: tuple[int, ...]  # in order of election
    stages: tuple[Stage, ...]
    lot: Lot


def _votes(units: int) -> float:
    # units are exact hundred-thousandths; the float is the nearest to that decimal and prints as it
    return units / ONE


class _Count:
    def __init__(self, ballots: RankedBallots, seats: int, lot: Lot) -> None:
        self.options = ballots.options
        self.papers = Papers(ballots)
        self.seats = seats
        self.lot = lot
        self.quota = ballots.total // (seats + 1) + 1
        self.elected: list[int] = []
        self.excluded: set[int] = set()
        self.surplus_done: set[int] = set()
        self.history: list[dict[int, int]] = []
        self.stages: list[Stage] = []

    def continuing(self) -> list[int]:
        return [o for i, o in enumerate(self.options) if self.papers.continuing[i]]

    def votes_now(self) -> dict[int, int]:
        totals = self.papers.totals()
        quota = self.quota * ONE
        return {
            o: quota if o in self.surplus_done else int(totals[i]) if o not in self.excluded else 0
            for i, o in enumerate(self.options)
        }

    def end_stage(self, action: str, candidate: int | None, moved: _Moved, tie: Tie | None) -> None:
        votes = self.votes_now()
        self.history.append(votes)
        # order of election within a stage: most votes, then as rule 50 orders equal surpluses
        by_votes = sorted(
            self.continuing(), key=lambda o: (*(-h[o] for h in reversed(self.history)), self.lot.place(o))
        )
        elected = [o for o in by_votes if votes[o] >= self.quota * ONE]  # rule 48
        self._elect(elected)
        left = self.continuing()
        last = 0 < len(left) <= self.seats - len(self.elected)  # rule 53
        if last:
            elected += [o for o in by_votes if o in left]
            self._elect(left)
        self.stages.append(
            Stage(
                number=len(self.stages) + 1,
                action=action,
                candidate=candidate,
                transfer_values=moved.values,
                transfers={o: _votes(moved.to[o]) for o in self.options if o in moved.to},
                non_transferable=_votes(moved.non_transferable),
                lost_to_rounding=_votes(moved.lost),
                votes={o: _votes(v) for o, v in votes.items()},
                elected=tuple(elected),
                last_vacancies=last,
                tie=tie,
            )
        )

    def _elect(self, options: list[int]) -> None:
        for o in options:
            self.elected.append(o)
            self.papers.continuing[self.papers.index[o]] = False

    def next_stage(self) -> None:
        votes = self.history[-1]
        quota = self.quota * ONE
        waiting = [o for o in self.elected if o not in self.surplus_done]
        surpluses = {o: votes[o] - quota for o in waiting if votes[o] > quota}
        if surpluses:  # rules 49 and 50
            largest = max(surpluses.values())
            tied = tuple(o for o in self.options if surpluses.get(o) == largest)
            chosen, tie = self._break(tied, "surplus order", lowest=False)
            moved = self._transfer_surplus(chosen, votes[chosen])
            self.surplus_done.add(chosen)
            self.end_stage("surplus", chosen, moved, tie)
            return
        left = self.continuing()  # rules 51 and 52
        fewest = min(votes[o] for o in left)
        tied = tuple(o for o in left if votes[o] == fewest)
        chosen, tie = self._break(tied, "exclusion", lowest=True)
        self.excluded.add(chosen)
        i = self.papers.index[chosen]
        self.papers.continuing[i] = False
        moved = self._move(self.papers.ballots_in(i))
        self.end_stage("exclusion", chosen, moved, tie)

    def _break(self, tied: tuple[int, ...], about: str, *, lowest: bool) -> tuple[int, Tie | None]:
        if len(tied) == 1:
            return tied[0], None
        narrowed = by_earlier_stage(tied, self.history, lowest=lowest)
        if len(narrowed) == 1:
            return narrowed[0], Tie(len(self.stages) + 1, about, tied, "earlier stage", narrowed[0])
        chosen = self.lot.loser(narrowed) if lowest else self.lot.winner(narrowed)
        return chosen, Tie(len(self.stages) + 1, about, tied, "lot", chosen)

    def _transfer_surplus(self, candidate: int, total: int) -> _Moved:
        rows = self.papers.ballots_in(self.papers.index[candidate])
        surplus = total - self.quota * ONE
        # rule 49(3): exact integer arithmetic in units; floor division is the truncation
        self.papers.value[rows] = surplus * self.papers.value[rows] // total
        moved = self._move(rows)
        values = tuple(_votes(int(v)) for v in sorted(set(self.papers.value[rows].tolist()), reverse=True))
        lost = surplus - sum(moved.to.values()) - moved.non_transferable
        return _Moved(moved.to, moved.non_transferable, lost, values)

    def _move(self, rows: Ints) -> _Moved:
        papers = self.papers
        to = papers.move_on(rows)
        worth = papers.count[rows] * papers.value[rows]
        sums = np.bincount(to[to >= 0], weights=worth[to >= 0], minlength=len(self.options))
        received = {self.options[c]: int(np.rint(sums[c])) for c in np.unique(to[to >= 0]).tolist()}
        return _Moved(received, int(worth[to < 0].sum()), 0, ())


@dataclass(frozen=True)
class _Moved:
    to: dict[int, int]  # units received per candidate
    non_transferable: int
    lost: int
    values: tuple[float, ...]


def stv(ballots: RankedBallots, seats: int, lot: Lot | None = None) -> STVResult:
    if seats < 1:
        raise ValueError("STV needs at least one seat")
    count = _Count(ballots, seats, lot or ballots.lot())
    if ballots.total:
        count.end_stage("first preferences", None, _Moved({}, 0, 0, ()), None)
        while len(count.elected) < seats and count.continuing():
            count.next_stage()
    return STVResult(
        method="stv",
        transfers="scottish",
        rules=RULES,
        seats=seats,
        ballots=ballots.total,
        quota=count.quota,
        elected=tuple(count.elected),
        stages=tuple(count.stages),
        lot=count.lot,
    )
