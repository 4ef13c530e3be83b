"""Live results in steps of k ballots, so nobody watching them can tell how one person voted.

While a poll is open, everything public about its ballots (counts, turnout, the receipt list)
moves only when at least k new ballots have been counted since the last step; closing the
poll publishes the rest. k is the poll's ``secrecy_k``: an observer who knows who voted
between two steps can do no better than chance among the k or more ballots of that step.
"""

from __future__ import annotations

import random
from typing import Generic, TypeVar

from polls.domain.poll_states import PollStatus
from polls.i18n import _

MIN_SECRECY_K = 5  # never fewer ballots per step (issue 13)
DEFAULT_SECRECY_K = 10
MAX_SECRECY_K = 1000

Item = TypeVar("Item")


def results_final(status: PollStatus) -> bool:
    """Once a poll has closed its figures are exact: no more ballots can join a step."""
    return status in (PollStatus.CLOSED, PollStatus.UNDER_REVIEW, PollStatus.PUBLISHED)


def steps_due(private_ballots: int, published_ballots: int, k: int, *, final: bool = False) -> bool:
    """Whether the published figures should catch up with the exact ones now (the rule the Redis
    script applies atomically; this is its statement, tested on its own)."""
    behind = private_ballots - published_ballots
    return behind > 0 and (final or behind >= k)


def held_back(ballots: int, k: int, *, final: bool = False) -> int:
    """How many of ``ballots`` stay unpublished when the published figures are rebuilt from
    scratch: the remainder after whole steps, so the rebuild reveals no step smaller than k."""
    return 0 if final else ballots % k


class HoldBack(Generic[Item]):
    """Chooses the ballots a rebuild holds back while they stream past, keeping at most k of
    them: a uniform random sample of k (reservoir sampling), of which the held back are a random
    remainder. Random, not the latest, since nothing stored says which ballots came last."""

    def __init__(self, k: int, rng: random.Random) -> None:
        self.k = k
        self.rng = rng
        self.seen = 0
        self._sample: list[Item] = []

    def offer(self, item: Item) -> None:
        self.seen += 1
        if len(self._sample) < self.k:
            self._sample.append(item)
        else:
            slot = self.rng.randrange(self.seen)
            if slot < self.k:
                self._sample[slot] = item

    def held(self, *, final: bool = False) -> list[Item]:
        """The remainder after whole steps of everything offered (none once the poll closed)."""
        return self.rng.sample(self._sample, held_back(self.seen, self.k, final=final))


def live_note(k: int) -> str:
    """What a live results page says about its steps, in plain words."""
    return _(
        "Live results update every %(k)s votes, so that nobody can work out how one person voted. "
        "When the poll closes, the remaining votes are added."
    ) % {"k": k}


def receipt_pending_note(k: int) -> str:
    return _(
        "Your vote is safely stored. Receipts are listed in batches of at least %(k)s, so your "
        "receipt will appear with the next update (or when the poll closes)."
    ) % {"k": k}
