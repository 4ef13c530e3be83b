"""The verifiable draw: a panel and ordered reserves from a published lottery and a revealed seed.

With the stream of ``seed``:
1. Panels in canonical order (each a count per group, groups ordered by their smallest id; panels
   sorted by those counts): r = below(sum of weights); the panel drawn is the first whose running
   total of weights exceeds r.
2. For each group in order that the panel takes people from: shuffle its ids (sorted by code point)
   and take as many as the panel says from the front.
3. Reserves: everyone else, leaving out (when households are kept apart) anyone sharing a household
   with a panel member, sorted by id and shuffled; walk that order, skipping (when kept apart)
   anyone sharing a household with an earlier reserve, and keep the first N. A juror who declines
   is replaced by the first unused reserve whose features keep every quota (``replacement``).
Everything is a pure function of the lottery, the seed, the public randomness and N.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from typing import Any

from polls.domain.sortition.groups import group_pool
from polls.domain.sortition.lottery import Lottery
from polls.domain.sortition.pool import Pool
from polls.domain.sortition.randomness import record_problems
from polls.domain.sortition.seed import Stream, commitment
from polls.errors import LotteryFileError, SeedMismatch

FORMAT = "polls-sortition-draw/1"


@dataclass(frozen=True)
class DrawRecord:
    """What a draw publishes; with the lottery file and the seed anyone can recompute it."""

    lottery_sha256: str
    seed: str
    public_randomness: str
    panel_number: int  # 1-based, in canonical order
    panel: tuple[str, ...]  # sorted ids
    reserves: tuple[str, ...]  # in the order they are called
    # The public randomness's source as published with the lottery, and what was revealed at the
    # draw (``polls.domain.sortition.randomness``); None for a draw made without a committed source.
    randomness: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "lottery_sha256": self.lottery_sha256,
            "seed": self.seed,
            "public_randomness": self.public_randomness,
            "panel_number": self.panel_number,
            "panel": list(self.panel),
            "reserves": list(self.reserves),
        }
        if self.randomness is not None:
            out["randomness"] = self.randomness
        return out


def read_draw(data: Any) -> DrawRecord:
    try:
        if data["format"] != FORMAT:
            raise LotteryFileError(f"not a draw record: its format should be {FORMAT!r}")
        return DrawRecord(
            str(data["lottery_sha256"]),
            str(data["seed"]),
            str(data.get("public_randomness", "")),
            int(data["panel_number"]),
            tuple(map(str, data["panel"])),
            tuple(map(str, data["reserves"])),
            _randomness(data.get("randomness")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LotteryFileError(
            f"the draw record is not one polls wrote ({type(exc).__name__}: {exc})"
        ) from None


def _randomness(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("source"), dict):
        raise ValueError("its randomness should name a source and what was revealed")
    return {"source": dict(data["source"]), "reveals": [str(r) for r in data["reveals"]]}


def draw(lottery: Lottery, seed: str, *, reserves: int = 0, public_randomness: str = "") -> DrawRecord:
    if commitment(seed) != lottery.seed_sha256:
        raise SeedMismatch("this seed is not the one committed to in the lottery file (its SHA-256 differs)")
    problems = lottery.problems()
    if problems:
        raise LotteryFileError(f"the lottery is not a valid one: {problems[0]}")
    stream = Stream(seed, public_randomness)
    r = stream.below(sum(lottery.weights))
    index = bisect.bisect_right(list(itertools.accumulate(lottery.weights)), r)  # first running total > r
    panel = lottery.panels[index]
    chosen: list[str] = []
    for group, count in zip(lottery.groups.groups, panel, strict=True):
        if count:
            chosen += stream.shuffle(list(group.ids))[:count]
    return DrawRecord(
        lottery.fingerprint(),
        seed,
        public_randomness,
        index + 1,
        tuple(sorted(chosen)),
        _reserves(lottery, set(chosen), stream, reserves),
    )


def _households(lottery: Lottery) -> dict[str, int]:
    """Each person sharing a household kept apart, and which household (none when not kept apart)."""
    groups = lottery.groups
    return {groups.groups[g].ids[0]: h for h, members in enumerate(groups.households) for g in members}


def _reserves(lottery: Lottery, panel: set[str], stream: Stream, wanted: int) -> tuple[str, ...]:
    if wanted <= 0:
        return ()
    household = _households(lottery)
    taken = {household[p] for p in panel if p in household}
    candidates = sorted(
        person
        for group in lottery.groups.groups
        for person in group.ids
        if person not in panel and household.get(person, -1) not in taken
    )
    order: list[str] = []
    for person in stream.shuffle(candidates):
        if len(order) == wanted:
            break
        if person in household:
            if household[person] in taken:
                continue
            taken.add(household[person])
        order.append(person)
    return tuple(order)


def replacement(lottery: Lottery, panel: list[str], declined: str, reserves: list[str]) -> str | None:
    """The first reserve (in order, not already on ``panel``) who can take the seat ``declined`` leaves.

    Fits means the panel with the reserve instead still meets every quota (and households, when kept
    apart); None when no reserve fits, and the officer must relax a quota or leave the seat empty.
    """
    groups = lottery.groups
    of = {person: g for g, group in enumerate(groups.groups) for person in group.ids}
    counts = [0] * len(groups)
    for person in panel:
        if person != declined:
            counts[of[person]] += 1
    for person in reserves:
        if person in panel or person == declined:
            continue
        counts[of[person]] += 1
        if not groups.problems(tuple(counts), lottery.size):
            return person
        counts[of[person]] -= 1
    return None


def verify(
    lottery: Lottery,
    seed: str,
    published: DrawRecord,
    pool: Pool | None = None,
    source: dict[str, Any] | None = None,
) -> list[str]:
    """Re-run a published draw; the reasons it does not check out (empty when it does).

    ``source`` is the public randomness's source published with the lottery: the draw must have
    used what its committed people revealed (or the numbers of its named lottery draw)."""
    problems = list(lottery.problems()) + record_problems(source, published)
    if commitment(seed) != lottery.seed_sha256:
        problems.append("the seed's SHA-256 is not the commitment published with the lottery")
    if published.lottery_sha256 != lottery.fingerprint():
        problems.append("the draw record names a different lottery file (SHA-256 differs)")
    if published.seed != seed:
        problems.append("the draw record names a different seed")
    if pool is not None:
        problems += _pool_problems(lottery, pool)
    if problems:
        return problems
    again = draw(
        lottery, seed, reserves=len(published.reserves), public_randomness=published.public_randomness
    )
    if again.panel != published.panel:
        problems.append(
            f"the draw gives a different panel (panel {again.panel_number}: {', '.join(again.panel)})"
        )
    if again.reserves != published.reserves:
        problems.append(f"the draw gives different reserves ({', '.join(again.reserves)})")
    return problems


def _pool_problems(lottery: Lottery, pool: Pool) -> list[str]:
    problems = []
    if pool.quotas != lottery.groups.quotas:
        problems.append("the categories file's quotas are not the lottery's")
    regrouped = group_pool(pool, households=lottery.households_apart)
    if regrouped.groups != lottery.groups.groups:
        problems.append("the people file does not give the lottery's pool (ids or features differ)")
    elif regrouped.households != lottery.groups.households:
        problems.append("the people file's households are not the lottery's")
    return problems
