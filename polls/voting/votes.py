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
    """One checked ballot waiting for the writer. Its credential never reaches the ballots table."""

    poll: PollDef
    assurance: Assurance
    credential: str  # the card's short digest, or an open poll's browser id
    unwrap: str  # the pad from the card's code that unwraps its voter secret ("" for browsers)
    answers: Answers
    channel: str
    fast_path_key: bytes  # the Redis claim: only the code (or browser id) gives it
    spent_until: int  # when the poll's spent markers expire in Redis (one instant per poll)
    nullifier: str = ""  # set in the batch's transaction (a replacement card spends the first's)
    area_id: int | None = None
    tracker: str = ""
    answer_by: float = 0.0  # event-loop time by which it is answered, committed or not
    done: asyncio.Future[Receipt] = field(init=False, repr=False)  # given by the writer that takes it


BatchOutcome = tuple[list[Vote], list[tuple[Vote, PollsError]]]  # accepted, refused (and why)
