"""The Redis fast path's claims, settled a batch at a time: spent markers of each poll expire at
that poll's one instant, whatever order the batch's polls come in; other claims are freed."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from polls.domain.ballots import PollDef
from polls.domain.polls import Assurance
from polls.voting.claims import CLAIM_TTL, Claims
from polls.voting.votes import Vote


def _vote(poll_id: int, n: int, until: int) -> Vote:
    poll = PollDef(id=poll_id, pilot_id=1, area_ids=frozenset(), questions=())
    answers: dict[str, Any] = {}
    return Vote(
        poll=poll,
        assurance=Assurance.POLL_CARD,
        credential=f"c{n}",
        unwrap="",
        answers=answers,
        channel="online",
        fast_path_key=f"spent:{poll_id}:{n}".encode(),
        spent_until=until,
    )


async def test_spent_markers_of_two_polls_in_one_batch_expire_at_their_own_poll_instant(redis: Redis) -> None:
    first, second = 4_000_000_000, 4_100_000_000
    votes = [_vote(1 if n % 2 else 2, n, first if n % 2 else second) for n in range(9)]
    claims = Claims(redis)
    answer = await claims.claim(votes)
    assert answer is not None and answer[0] == votes and answer[1] == []
    assert 0 < await redis.ttl(votes[0].fast_path_key) <= CLAIM_TTL
    refused = {votes[3].fast_path_key, votes[4].fast_path_key}
    await claims.settle(votes, spent=[v for v in votes if v.fast_path_key not in refused])
    for vote in votes:
        if vote.fast_path_key in refused:
            assert not await redis.exists(vote.fast_path_key)  # free to try again
        else:
            left = vote.spent_until - time.time()  # EXPIRETIME is Redis 7's: the TTL, within a second
            assert left - 2 <= await redis.ttl(vote.fast_path_key) <= left + 1
