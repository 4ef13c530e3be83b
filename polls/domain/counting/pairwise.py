"""Head-to-head comparisons between options, from ranked ballots.

A ballot prefers option a to option b when it ranks a above b, or ranks a and leaves b
unranked (an option left off a ballot is below every option on it). When neither is ranked
the ballot has no preference between them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from polls.domain.counting.ranked import RankedBallots

Matrix = npt.NDArray[np.int64]


def positions(ballots: RankedBallots) -> tuple[Matrix, Matrix]:
    """Each distinct ranking's position for every option (0 = first; the number of options when
    unranked), and how many ballots hold each ranking."""
    m = len(ballots.options)
    index = {o: i for i, o in enumerate(ballots.options)}
    place = np.full((len(ballots.rankings), m), m, dtype=np.int64)
    for row, (ranking, _) in enumerate(ballots.rankings):
        place[row, [index[o] for o in ranking]] = np.arange(len(ranking))
    counts = np.array([n for _, n in ballots.rankings], dtype=np.int64)
    return place, counts


def preferring(ballots: RankedBallots) -> dict[int, dict[int, int]]:
    """prefer[a][b]: how many ballots prefer a to b."""
    place, counts = positions(ballots)
    options = ballots.options
    table = {a: dict.fromkeys((b for b in options if b != a), 0) for a in options}
    for i, a in enumerate(options):
        for j, b in enumerate(options):
            if i != j:
                table[a][b] = int(counts[place[:, i] < place[:, j]].sum())
    return table
