"""The voting booth: from a resident's credential and answers to a durable, counted ballot.

Order of checks: the credential (signed token carrying the short code, the short code itself, or
a browser id) gives the card's short digest and the pad that unwraps its voter secret (the code
goes no further); the answers are checked against the poll; the ballot writer refuses an obvious
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
from polls.domain.voter_secrets import CardCredential, card_credential, claim_key, claim_of
from polls.errors import CodeNotValid, ErrorCode, PollNotOpen
from polls.i18n import N_
from polls.store.ballots import load_poll, poll_definition
from polls.store.db import Database
from polls.store.models import utcnow
from polls.tokens import VOTER_CODE, TokenExpired, TokenInvalid, Tokens
from polls.voting.claims import spent_until
from polls.voting.votes import Receipt, Vote
from polls.voting.writer import BallotWriter

log = logging.getLogger("polls.voting")


@dataclass(frozen=True)
class OpenPoll:
    definition: PollDef
    assurance: Assurance
    closes_at: datetime | None
    title: str
    spent_until: int  # epoch second: when its spent markers leave Redis, the same for every vote


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
                    poll_definition(poll),
                    Assurance(poll.assurance),
                    poll.closes_at,
                    poll.title,
                    spent_until(poll.closes_at, poll.created_at),
                )
            self._open[poll_id] = cached
        if cached.closes_at is not None and (now or utcnow()) >= cached.closes_at:
            raise PollNotOpen(N_("This poll has closed"))
        return cached

    @property
    def key(self) -> bytes:
        assert self.writer.key is not None, "writer not started"
        return self.writer.key

    def credential(self, normalised_code: str) -> CardCredential:
        return card_credential(self.key, normalised_code)

    def read_token(self, token: str) -> str:
        """A voting link's payload: the card's short code (normalised), or for cards printed
        before migration 0010, the card's reference (longer)."""
        try:
            payload = self.tokens.read(VOTER_CODE, token)
        except TokenExpired:
            raise CodeNotValid(N_("This voting link has expired"), code=ErrorCode.CODE_EXPIRED) from None
        except TokenInvalid:
            raise CodeNotValid(
                N_(
                    "This voting link is not valid. Check it was copied in full, "
                    "or type the code from your card."
                ),
                code=ErrorCode.CODE_INVALID,
            ) from None
        if isinstance(payload, str):
            return payload
        raise CodeNotValid(N_("This voting link is not valid"), code=ErrorCode.CODE_INVALID)

    async def cast(
        self, poll_id: int, voter: CardCredential | str, raw_answers: Any, *, channel: str = "online"
    ) -> Receipt:
        """Cast a ballot for a card (its credential) or, in an open poll, a browser (its id)."""
        poll = await self.open_poll(poll_id)
        answers = check_ballot(poll.definition, raw_answers)
        card = voter if isinstance(voter, CardCredential) else self.browser(voter)
        vote = Vote(
            poll=poll.definition,
            assurance=poll.assurance,
            credential=card.digest,
            unwrap=card.unwrap,
            answers=answers,
            channel=channel,
            fast_path_key=claim_key(card.claim, poll_id),
            spent_until=poll.spent_until,
        )
        return await self.writer.cast(vote)

    def browser(self, browser: str) -> CardCredential:
        """An open poll's browser id, as a credential: it has no card, so no digest or pad."""
        return CardCredential(digest=browser, unwrap="", claim=claim_of(self.key, browser))


def _not_open_message(status: str) -> str:
    return {
        PollStatus.DRAFT.value: N_("This poll is not open yet"),
        PollStatus.SCHEDULED.value: N_("This poll is not open yet"),
    }.get(status, N_("This poll has closed"))
