"""The voting booth: from a resident's credential and answers to a durable, counted ballot.

Order of checks: the credential (signed token, short code or browser id) names an opaque
reference; the answers are checked against the poll; the ballot writer refuses an obvious
second use from Redis (fast path, one round trip per batch) and commits ballot and nullifier
together, where the nullifier's primary key refuses any second use Redis missed; only then is
the vote acknowledged and added to the live tally.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from polls.domain.ballots import PollDef, check_ballot
from polls.domain.polls import Assurance, PollStatus
from polls.errors import CodeNotValid, ErrorCode, PollNotOpen
from polls.store.ballots import load_poll, poll_definition
from polls.store.db import Database
from polls.store.models import utcnow
from polls.tokens import VOTER_CODE, TokenExpired, TokenInvalid, Tokens
from polls.voting.votes import Receipt, Vote
from polls.voting.writer import BallotWriter

log = logging.getLogger("polls.voting")


@dataclass(frozen=True)
class OpenPoll:
    definition: PollDef
    assurance: Assurance
    closes_at: datetime | None
    title: str


class VotingBooth:
    def __init__(self, db: Database, tokens: Tokens, writer: BallotWriter) -> None:
        self.db = db
        self.tokens = tokens
        self.writer = writer
        # Open polls cannot change their questions, so their definitions are cached for good.
        self._open: dict[int, OpenPoll] = {}

    async def open_poll(self, poll_id: int, now: datetime | None = None) -> OpenPoll:
        cached = self._open.get(poll_id)
        if cached is None:
            async with self.db() as session:
                poll = await load_poll(session, poll_id)
                if poll.status != PollStatus.OPEN.value:
                    raise PollNotOpen(_not_open_message(poll.status))
                cached = OpenPoll(
                    poll_definition(poll), Assurance(poll.assurance), poll.closes_at, poll.title
                )
            self._open[poll_id] = cached
        if cached.closes_at is not None and (now or utcnow()) >= cached.closes_at:
            raise PollNotOpen("This poll has closed")
        return cached

    def reference_from_token(self, token: str) -> str:
        try:
            reference = self.tokens.read(VOTER_CODE, token)
        except TokenExpired:
            raise CodeNotValid("This voting link has expired", code=ErrorCode.CODE_EXPIRED) from None
        except TokenInvalid:
            raise CodeNotValid(
                "This voting link is not valid. Check it was copied in full, "
                "or type the code from your card.",
                code=ErrorCode.CODE_INVALID,
            ) from None
        if not isinstance(reference, str):
            raise CodeNotValid("This voting link is not valid", code=ErrorCode.CODE_INVALID)
        return reference

    async def cast(
        self, poll_id: int, reference: str, raw_answers: Any, *, channel: str = "online"
    ) -> Receipt:
        poll = await self.open_poll(poll_id)
        answers = check_ballot(poll.definition, raw_answers)
        vote = Vote(
            poll=poll.definition,
            assurance=poll.assurance,
            reference=reference,
            answers=answers,
            channel=channel,
        )
        return await self.writer.cast(vote)


def _not_open_message(status: str) -> str:
    return {
        PollStatus.DRAFT.value: "This poll is not open yet",
        PollStatus.SCHEDULED.value: "This poll is not open yet",
    }.get(status, "This poll has closed")
