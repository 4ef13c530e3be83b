"""`polls bench sortition`: the leximin panel lottery on the instances issue 4 names, timed.

(a) A pool of 200 built to trip up naive selection (1 female conservative, 99 female liberals, 100
male conservatives; every feature 9 to 20 seats; a panel of 20): leximin gives everyone exactly
10%, and so must we, to within 0.1 point. (b) The same ten times over (2,000 people, 90 to 200 per
feature, a panel of 200). (c) A realistic pool of 1,500 volunteers with 7 correlated categories and
quotas around population shares, for a panel of 110: generated from a fixed seed. Each time covers
everything from the pool to the published lottery (grouping, solving, whole-number weights).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from typing import Any

from polls.domain.sortition import Pool, Quota, Quotas, fairest_lottery, group_pool, make_lottery
from polls.domain.sortition.pool import Person

TARGETS = {
    "small_seconds": 60.0,
    "tenfold_seconds": 60.0,
    "realistic_seconds": 600.0,
    "tolerance_points": 0.1,
}

CATEGORIES = {
    "gender": ["female", "male", "non-binary or other"],
    "age": ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
    "education": ["no qualifications", "school", "further", "degree"],
    "ethnicity": ["white", "asian", "black", "mixed", "other"],
    "area": ["city centre", "inner suburbs", "outer suburbs", "market towns", "villages"],
    "housing": ["owner", "social rent", "private rent"],
    "climate concern": ["very", "fairly", "not very", "not at all"],
}


def skewed_pool(scale: int) -> Pool:
    """The 200-person pool of the issue, ``scale`` times over."""
    quotas = Quotas(
        tuple(
            Quota(category, feature, 9 * scale, 20 * scale)
            for category, features in (
                ("gender", ("female", "male")),
                ("politics", ("conservative", "liberal")),
            )
            for feature in features
        )
    )
    people: list[Person] = []
    for count, features in (
        (1 * scale, ("female", "conservative")),
        (99 * scale, ("female", "liberal")),
        (100 * scale, ("male", "conservative")),
    ):
        people += [Person(f"p{len(people) + i + 1:05d}", features) for i in range(count)]
    return Pool(tuple(people), quotas)


def _resident(rng: random.Random) -> tuple[int, ...]:
    """One resident who gets an invitation letter: categories correlated as in a British town."""

    def pick(weights: list[float]) -> int:
        return rng.choices(range(len(weights)), weights=weights)[0]

    gender = pick([0.505, 0.485, 0.01])
    age = pick([0.13, 0.17, 0.16, 0.17, 0.15, 0.12, 0.10])
    old = age / 6
    education = pick([0.08 + 0.25 * old, 0.35, 0.14, 0.43 - 0.3 * old])
    area = pick([0.15, 0.25, 0.25, 0.20, 0.15])
    urban = 1 - area / 4
    ethnicity = pick(
        [
            0.90 - 0.16 * urban,
            0.05 + 0.08 * urban,
            0.02 + 0.05 * urban,
            0.02 + 0.02 * urban,
            0.01 + 0.01 * urban,
        ]
    )
    housing = pick([0.35 + 0.5 * old, 0.17, 0.481 - 0.5 * old])
    degree = education == 3
    climate = pick(
        [0.25 + 0.15 * (1 - old) + 0.1 * degree, 0.40, 0.2 - 0.05 * degree, 0.15 - 0.05 * degree + 0.05 * old]
    )
    return gender, age, education, ethnicity, area, housing, climate


def _volunteers(resident: tuple[int, ...]) -> float:
    """How likely a resident is to answer: older, better educated, worried about the climate, owners."""
    _, age, education, ethnicity, _, housing, climate = resident
    return (
        0.3
        * (0.6 + 0.12 * age)
        * (0.6 + 0.3 * education)
        * (1.4 - 0.3 * climate)
        * (0.8 if ethnicity else 1.0)
        * (0.8 if housing else 1.0)
    )


def realistic_pool(people: int = 1500, size: int = 110, seed: int = 1500) -> Pool:
    """Letters go out until ``people`` volunteer; quotas: the recipients' shares of ``size``, +-1 seat."""
    rng = random.Random(seed)
    names = list(CATEGORIES)
    shares: Counter[tuple[int, int]] = Counter()
    invited = 0
    pool: list[Person] = []
    while len(pool) < people:
        resident = _resident(rng)
        invited += 1
        shares.update(enumerate(resident))
        if rng.random() < _volunteers(resident):
            features = tuple(CATEGORIES[names[c]][f] for c, f in enumerate(resident))
            pool.append(Person(f"r{len(pool) + 1:05d}", features))
    quotas = [
        Quota(name, feature, max(0, math.floor(share * size) - 1), math.ceil(share * size) + 1)
        for c, name in enumerate(names)
        for f, feature in enumerate(CATEGORIES[name])
        for share in [shares[c, f] / invited]
    ]
    return Pool(tuple(pool), Quotas(tuple(quotas)))


def _measure(pool: Pool, size: int) -> dict[str, Any]:
    started = time.perf_counter()
    groups = group_pool(pool, households=False)
    lottery = make_lottery(fairest_lottery(groups, size), households_apart=False, seed_sha256="0" * 64)
    seconds = time.perf_counter() - started
    probabilities = [float(p) for p in lottery.probabilities().values()]
    assert not lottery.problems(), lottery.problems()
    return {
        "seconds": round(seconds, 3),
        "people": len(pool),
        "groups": len(groups),
        "panels": len(lottery.panels),
        "min_percent": round(100 * min(probabilities), 4),
        "max_percent": round(100 * max(probabilities), 4),
        "sum_of_probabilities": round(sum(probabilities), 6),
    }


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, pool, size in (
        ("small", skewed_pool(1), 20),
        ("tenfold", skewed_pool(10), 200),
        ("realistic", realistic_pool(), 110),
    ):
        for key, value in _measure(pool, size).items():
            figures[f"{name}_{key}"] = value
    tolerance = TARGETS["tolerance_points"]
    for name in ("small", "tenfold"):
        within = (
            abs(figures[f"{name}_min_percent"] - 10) <= tolerance
            and abs(figures[f"{name}_max_percent"] - 10) <= tolerance
        )
        figures[f"{name}_all_at_10_percent"] = within
    for name in ("small", "tenfold", "realistic"):
        figures[f"{name}_meets_target"] = figures[f"{name}_seconds"] <= TARGETS[
            f"{name}_seconds"
        ] and figures.get(f"{name}_all_at_10_percent", True)
    return figures


def report(figures: dict[str, Any]) -> str:
    f = figures
    header = (
        ("people", 8),
        ("groups", 8),
        ("panel", 7),
        ("panels", 8),
        ("min %", 10),
        ("max %", 10),
        ("seconds", 9),
    )
    lines = [f"{'':12}" + "".join(f"{name:>{width}}" for name, width in header) + "  target"]
    for name, size in (("small", 20), ("tenfold", 200), ("realistic", 110)):
        lines.append(
            f"{name:12}{f[name + '_people']:>8,}{f[name + '_groups']:>8,}{size:>7}{f[name + '_panels']:>8,}"
            f"{f[name + '_min_percent']:>10.4f}{f[name + '_max_percent']:>10.4f}"
            f"{f[name + '_seconds']:>9.2f}  "
            f"{'met' if f[name + '_meets_target'] else 'MISSED'} (< {TARGETS[name + '_seconds']:.0f} s"
            + (", everyone at 10% +- 0.1 point)" if name != "realistic" else ")")
        )
    lines.append(json.dumps(figures))
    return "\n".join(lines)
