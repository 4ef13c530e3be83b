"""The published lottery: panels with whole-number weights, everyone's probability, the seed commitment.

Chances are rounded to whole weights out of WEIGHT_TOTAL (largest remainders, so they add up
exactly), and from then on everything is exact: the draw picks a panel with those weights and the
published probabilities are the ones the weights give. The file names pool members by id only, and
households kept apart by who shares one, never by address.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from polls.domain.sortition.groups import Group, Groups
from polls.domain.sortition.leximin import Distribution, Progress, fairest_lottery
from polls.domain.sortition.panels import Panel
from polls.domain.sortition.pool import Quota, Quotas
from polls.errors import LotteryFileError

FORMAT = "polls-sortition-lottery/1"
WEIGHT_TOTAL = 10**12
# Recomputed probabilities may differ from published ones by solver tolerance, never by this much.
FAIRNESS_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Lottery:
    groups: Groups
    size: int
    households_apart: bool
    panels: tuple[Panel, ...]  # in canonical order: sorted
    weights: tuple[int, ...]  # whole numbers, adding up to WEIGHT_TOTAL
    seed_sha256: str  # the commitment to the draw's seed

    def group_probabilities(self) -> tuple[Fraction, ...]:
        total = sum(self.weights)
        seats = [0] * len(self.groups)
        for panel, weight in zip(self.panels, self.weights, strict=True):
            for g, count in enumerate(panel):
                seats[g] += weight * count
        return tuple(Fraction(s, total * size) for s, size in zip(seats, self.groups.sizes, strict=True))

    def probabilities(self) -> dict[str, Fraction]:
        """Every pool member's selection probability, exactly."""
        return {
            person: p
            for group, p in zip(self.groups.groups, self.group_probabilities(), strict=True)
            for person in group.ids
        }

    def problems(self) -> list[str]:
        """Why the lottery is not a valid one for its pool and quotas (empty when it is)."""
        found = []
        if sum(self.weights) != WEIGHT_TOTAL:
            found.append(f"the panel weights add up to {sum(self.weights)}, not {WEIGHT_TOTAL}")
        if any(w <= 0 for w in self.weights):
            found.append("a panel has a weight of 0 or less")
        if len(set(self.panels)) != len(self.panels):
            found.append("a panel is listed twice")
        for number, panel in enumerate(self.panels, 1):
            found += [f"panel {number}: {p}" for p in self.groups.problems(panel, self.size)]
        return found

    def to_json(self) -> dict[str, Any]:
        """The published file: the lottery itself, then what follows from it, for people to read."""
        probabilities = self.probabilities()
        return self._essentials() | {
            "lowest_probability": float(min(probabilities.values())),
            # Sorted, so the file reads the same however the pool was ordered.
            "probabilities": {
                person: round(float(probabilities[person]), 12) for person in sorted(probabilities)
            },
        }

    def fingerprint(self) -> str:
        """What a draw record names: SHA-256 of the lottery's essentials as canonical JSON.

        Only strings, whole numbers and booleans go in (sorted keys, no spaces, UTF-8), so that a
        verifier in any language gets the same bytes; the probabilities follow from them.
        """
        text = json.dumps(self._essentials(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def _essentials(self) -> dict[str, Any]:
        categories = self.groups.quotas.categories
        return {
            "format": FORMAT,
            "panel_size": self.size,
            "households_kept_apart": self.households_apart,
            "quotas": [
                {"category": q.category, "feature": q.feature, "min": q.min, "max": q.max}
                for q in self.groups.quotas.quotas
            ],
            "groups": [
                {"features": dict(zip(categories, g.features, strict=True)), "people": list(g.ids)}
                for g in self.groups.groups
            ],
            "households": [[self.groups.groups[g].ids[0] for g in h] for h in self.groups.households],
            "weight_total": WEIGHT_TOTAL,
            "panels": [
                {"weight": w, "seats": [[g, n] for g, n in enumerate(panel) if n]}
                for panel, w in zip(self.panels, self.weights, strict=True)
            ],
            "seed_sha256": self.seed_sha256,
        }


def make_lottery(distribution: Distribution, *, households_apart: bool, seed_sha256: str) -> Lottery:
    """Round the chances to whole weights out of WEIGHT_TOTAL, largest remainders first."""
    exact = [Fraction(c).limit_denominator(10**15) * WEIGHT_TOTAL for c in distribution.chances]
    scale = Fraction(WEIGHT_TOTAL) / sum(exact)
    exact = [x * scale for x in exact]
    weights = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (exact[i] - weights[i], -i), reverse=True)
    for i in by_remainder[: WEIGHT_TOTAL - sum(weights)]:
        weights[i] += 1
    kept = sorted((p, w) for p, w in zip(distribution.panels, weights, strict=True) if w > 0)
    return Lottery(
        distribution.groups,
        distribution.size,
        households_apart,
        tuple(p for p, _ in kept),
        tuple(w for _, w in kept),
        seed_sha256,
    )


def unfair_probabilities(lottery: Lottery, progress: Progress | None = None) -> list[str]:
    """Recompute the leximin lottery for the lottery's own pool, quotas and size; where they differ.

    The leximin probabilities are unique (the lotteries reaching them are not), so a lottery whose
    probabilities are not those was not the fairest: someone was favoured, by mistake or not.
    """
    fair = fairest_lottery(lottery.groups, lottery.size, progress).probabilities()
    published = lottery.group_probabilities()
    off = [g for g, p in enumerate(published) if abs(float(p) - fair[g]) > FAIRNESS_TOLERANCE]
    if not off:
        return []
    g = max(off, key=lambda g: abs(float(published[g]) - fair[g]))
    return [
        f"{sum(lottery.groups.sizes[g] for g in off)} people do not have the fairest probability; "
        f"{lottery.groups.groups[g].ids[0]}, for one, has {float(published[g]):.4%} where it is {fair[g]:.4%}"
    ]


def read_lottery(data: Any) -> Lottery:
    """A lottery from its published JSON, in canonical order whatever the file's order."""
    try:
        return _read(data)
    except LotteryFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise LotteryFileError(
            f"the lottery file is not one polls wrote ({type(exc).__name__}: {exc})"
        ) from None


def _read(data: Any) -> Lottery:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LotteryFileError(f"not a lottery file: its format should be {FORMAT!r}")
    quotas = Quotas(
        tuple(
            Quota(str(q["category"]), str(q["feature"]), int(q["min"]), int(q["max"])) for q in data["quotas"]
        )
    )
    categories = quotas.categories
    written = [
        Group(tuple(str(g["features"][c]) for c in categories), tuple(sorted(map(str, g["people"]))))
        for g in data["groups"]
    ]
    if any(not g.ids for g in written):
        raise LotteryFileError("a group has nobody in it")
    everyone = [person for g in written for person in g.ids]
    if len(set(everyone)) != len(everyone):
        raise LotteryFileError("someone is in two groups")
    order = sorted(range(len(written)), key=lambda g: written[g].ids[0])
    position = {old: new for new, old in enumerate(order)}
    first_id = {written[old].ids[0]: new for new, old in enumerate(order)}
    households = []
    for ids in data["households"]:
        if any(i not in first_id or written[order[first_id[i]]].size != 1 for i in ids):
            raise LotteryFileError(f"household {ids} does not name people who are groups of their own")
        households.append(tuple(sorted(first_id[i] for i in ids)))
    groups = Groups(quotas, tuple(written[old] for old in order), tuple(sorted(households)))
    panels: list[tuple[Panel, int]] = []
    for entry in data["panels"]:
        counts = [0] * len(written)
        for g, n in entry["seats"]:
            counts[position[int(g)]] += int(n)
        panels.append((tuple(counts), int(entry["weight"])))
    panels.sort()
    if int(data["weight_total"]) != WEIGHT_TOTAL:
        raise LotteryFileError(f"the weights should be out of {WEIGHT_TOTAL}")
    seed_sha256 = str(data["seed_sha256"])
    if len(seed_sha256) != 64 or any(c not in "0123456789abcdef" for c in seed_sha256):
        raise LotteryFileError("seed_sha256 is not a SHA-256 in lower-case hex")
    lottery = Lottery(
        groups,
        int(data["panel_size"]),
        bool(data["households_kept_apart"]),
        tuple(p for p, _ in panels),
        tuple(w for _, w in panels),
        seed_sha256,
    )
    published = data["probabilities"]
    exact = lottery.probabilities()
    if set(published) != set(exact):
        raise LotteryFileError("the published probabilities do not list exactly the pool")
    wrong = [person for person, p in exact.items() if abs(float(published[person]) - float(p)) > 1e-9]
    if wrong:
        raise LotteryFileError(
            f"the published probabilities of {len(wrong)} people (first '{wrong[0]}') do not match the panels"
        )
    return lottery
