"""A vote on its way to the ballot box: what the booth hands the writer, and what it answers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from polls.domain.ballots import Answers, PollDef
from polls.domain.polls import Assurance
from polls.errors import PollsError


@dataclass(frozen=True)
class Receipt:
    poll_id: int
    tracker: str


@dataclass
class Vote:
    """One checked ballot waiting for the writer. ``reference`` never reaches the ballots table."""

    poll: PollDef
    assurance: Assurance
    reference: str
    answers: Answers
    channel: str
    nullifier: str = ""  # set in the batch's transaction (a replacement card spends the first's)
    fast_path_key: str = ""  # the Redis claim, keyed on this card's own reference
    area_id: int | None = None
    tracker: str = ""
    done: asyncio.Future[Receipt] = field(init=False, repr=False)  # given by the writer that takes it


BatchOutcome = tuple[list[Vote], list[tuple[Vote, PollsError]]]  # accepted, refused (and why)
