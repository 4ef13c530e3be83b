"""Ballot papers on the counting table, for the methods that move papers between piles (IRV, STV).

One row per distinct ranking (its ballots always travel together: they share every next
preference and every transfer value). Each row knows how many papers it stands for, which
option's pile holds it (or -1: exhausted, non-transferable), and the value of each paper in
hundred-thousandths of a vote (100000 = one vote), so that STV's five-decimal transfer values
are exact whole numbers and never float.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from polls.domain.counting.ranked import RankedBallots

ONE = 100_000  # a whole vote, in the units papers are valued in
Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


class Papers:
    def __init__(self, ballots: RankedBallots) -> None:
        self.options = ballots.options
        self.index = {option: i for i, option in enumerate(self.options)}
        m = len(self.options)
        rows = [tuple(self.index[o] for o in r) for r, _ in ballots.rankings]
        # a tie kept to the count (rule one_left) is a code -2 - g for group g, settled as it is met
        self.groups: list[Ints] = []
        for marked, _ in ballots.tied:
            marks = []
            for group in marked:
                if len(group) == 1:
                    marks.append(self.index[group[0]])
                else:
                    self.groups.append(np.array([self.index[o] for o in group], dtype=np.int64))
                    marks.append(-1 - len(self.groups))
            rows.append(tuple(marks))
        # one spare column of -1 so that stepping past the last preference lands on "exhausted"
        width = max([m, *map(len, rows)]) + 1
        flat: list[int] = []
        for row in rows:
            flat += [*row, *[-1] * (width - len(row))]
        self.choices: Ints = np.array(flat, dtype=np.int64).reshape(len(rows), width)
        counts = [n for _, n in ballots.rankings] + [n for _, n in ballots.tied]
        self.count: Ints = np.array(counts, dtype=np.int64)
        self.value: Ints = np.full(len(rows), ONE, dtype=np.int64)
        self.position: Ints = np.zeros(len(rows), dtype=np.int64)
        self.pile: Ints = self.choices[:, 0].copy() if rows else np.zeros(0, dtype=np.int64)
        self.continuing: Flags = np.ones(m, dtype=np.bool_)

    def totals(self) -> Ints:
        """Value held in each option's pile, in units."""
        held = self.pile >= 0
        weights = (self.count * self.value)[held]
        sums = np.bincount(self.pile[held], weights=weights, minlength=len(self.options))
        # float sums of whole numbers below 2**53 are exact; the round trip keeps them whole
        return np.rint(sums).astype(np.int64)

    def ballots_in(self, option_index: int) -> Ints:
        return np.flatnonzero(self.pile == option_index)

    def move_on(self, rows: Ints) -> Ints:
        """Move these rows to their next preference for a continuing option (or -1); returns the new
        piles. Options already elected or excluded are skipped, as the rules require."""
        position = self.position[rows] + 1
        last = self.choices.shape[1] - 1
        open_or_end = np.append(self.continuing, True)  # index -1 (no preference left) ends the search
        while True:
            np.minimum(position, last, out=position)
            choice, passed = self._settle(self.choices[rows, position])
            waiting = ~open_or_end[choice] | passed
            if not waiting.any():
                break
            position[waiting] += 1
        self.position[rows] = position
        self.pile[rows] = choice
        return choice

    def _settle(self, choice: Ints) -> tuple[Ints, Flags]:
        """Tied ranks met: the one tied option still in the count, or passed over when none is,
        or -1 (the ballot ends) while two or more are."""
        passed = np.zeros(len(choice), dtype=np.bool_)
        coded = np.flatnonzero(choice < -1)
        if not len(coded):
            return choice, passed
        choice = choice.copy()
        for k in coded.tolist():
            members = self.groups[-2 - int(choice[k])]
            left = members[self.continuing[members]]
            choice[k] = int(left[0]) if len(left) == 1 else -1
            passed[k] = not len(left)
        return choice, passed
