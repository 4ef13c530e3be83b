"""Rules that differ between places: how a ranked ballot with a tied rank (an overvote: two options
marked with the same rank) or a skipped rank is read, and how STV transfers surpluses.

A ballot as marked is a sequence of ranks, each a group of options: one option (the usual case),
several (a tie) or none (a skipped rank). Ballots cast online or typed up from paper in polls
always hold one option per rank; PrefLib and BLT files can hold ties, and BLT skipped ranks.

Rules for tied or skipped ranks, one per question (setting ``ranking_rule``):

    scottish   the ballot counts up to its first tied or skipped rank and no further; a tie at
               the first rank leaves no valid first preference, so the paper is not counted.
               As the Scottish STV rules read papers (the Scottish Local Government Elections
               Order 2011, Schedule 1). The default.
    us         a tied rank ends the ballot there (it is exhausted); a skipped rank is passed
               over. The common rule of US ranked-choice counts (New York City, San Francisco).
    skip_tied  a tied rank is passed over, as is a skipped rank.
    one_left   a tied rank counts for the one tied option still in the count, if only one is;
               it is passed over when none is, and ends the ballot while two or more are. A
               skipped rank is passed over. Counts that exclude nobody (Borda, Condorcet,
               Schulze, plurality) have every option in the count, so there a tie ends the ballot.

STV surplus transfers (setting ``stv_transfers``): ``scottish`` (the default, ``stv``) or
``meek`` (``meek``).
"""

from __future__ import annotations

from collections.abc import Sequence

from polls.i18n import N_

RANKING_RULES = {
    "scottish": N_("Scottish rule: a ballot counts up to its first tied or skipped rank"),
    "us": N_("common US rule: a tied rank ends the ballot; a skipped rank is passed over"),
    "skip_tied": N_("tied and skipped ranks are passed over"),
    "one_left": N_(
        "a tied rank counts for the one tied option still in the count; skipped ranks are passed over"
    ),
}
STV_TRANSFERS = {
    "scottish": "Scottish STV rules (surpluses transferred once, truncated to 5 decimal places)",
    "meek": "Meek's method (every elected candidate keeps a share of each vote reaching them)",
}
DEFAULT_RANKING_RULE, DEFAULT_STV_TRANSFERS = "scottish", "scottish"

Group = tuple[int, ...]
Marked = tuple[Group, ...]


def read_marked(rule: str, marked: Sequence[Group]) -> tuple[tuple[int, ...], Marked | None]:
    """The ballot under ``rule``: a plain ranking, and, under ``one_left`` when a tie remains
    after the first rank, the ballot with its tied ranks kept (counted rank by rank, as the
    options in the count change). An empty ranking has no first preference."""
    if rule not in RANKING_RULES:
        raise ValueError(f"the rule for tied or skipped ranks is one of {', '.join(RANKING_RULES)}")
    kept: list[Group] = []
    for group in marked:
        if len(group) == 1:
            kept.append(group)
        elif (rule == "scottish") or (len(group) > 1 and rule == "us"):
            break  # the ballot ends here
        elif len(group) > 1 and rule == "one_left":
            if not kept:
                break  # every tied option is in the count at the start: no first preference
            kept.append(group)
        # else: passed over (a skipped rank, or a tie under skip_tied)
    if any(len(g) > 1 for g in kept):
        return tuple(g[0] for g in kept[: next(i for i, g in enumerate(kept) if len(g) > 1)]), tuple(kept)
    return tuple(g[0] for g in kept), None
