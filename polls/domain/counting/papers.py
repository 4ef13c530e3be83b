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
        m, rows = len(self.options), len(ballots.rankings)
        # one spare column of -1 so that stepping past the last preference lands on "exhausted"
        flat: list[int] = []
        for ranking, _ in ballots.rankings:
            flat += [self.index[o] for o in ranking]
            flat += [-1] * (m + 1 - len(ranking))
        self.choices: Ints = np.array(flat, dtype=np.int64).reshape(rows, m + 1)
        self.count: Ints = np.array([n for _, n in ballots.rankings], dtype=np.int64)
        self.value: Ints = np.full(rows, ONE, dtype=np.int64)
        self.position: Ints = np.zeros(rows, dtype=np.int64)
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
            choice = self.choices[rows, position]
            waiting = ~open_or_end[choice]
            if not waiting.any():
                break
            position[waiting] += 1
        self.position[rows] = position
        self.pile[rows] = choice
        return choice
