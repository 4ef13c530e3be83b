"""Scale (Likert) questions: how many chose each point, the mean and the median.

The median is the middle answer; with an even number of answers it is the mean of the two
middle ones (so it can fall half-way between two points). No ties to break: nothing is elected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class ScaleResult:
    method: str
    ballots: int  # ballots that answered
    distribution: dict[int, int]  # every point from the bottom of the scale to the top
    mean: float | None
    median: float | None


def scale(low: int, high: int, answers: Iterable[tuple[int, int]]) -> ScaleResult:
    """Count (point chosen, number of ballots) pairs on a scale from low to high."""
    distribution = dict.fromkeys(range(low, high + 1), 0)
    for point, n in answers:
        if point not in distribution:
            raise ValueError(f"{point} is not on the scale from {low} to {high}")
        distribution[point] += n
    total = sum(distribution.values())
    if not total:
        return ScaleResult("scale", 0, distribution, None, None)
    mean = Fraction(sum(p * n for p, n in distribution.items()), total)
    return ScaleResult("scale", total, distribution, float(mean), float(_median(distribution, total)))


def _median(distribution: dict[int, int], total: int) -> Fraction:
    def nth(k: int) -> int:  # the k-th answer in order, counting from 0
        seen = 0
        for point, n in distribution.items():
            seen += n
            if seen > k:
                return point
        raise AssertionError("k is below the total")

    middle = total // 2
    if total % 2:
        return Fraction(nth(middle))
    return Fraction(nth(middle - 1) + nth(middle), 2)
