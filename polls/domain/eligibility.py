"""Who may vote: the rules a batch's transaction applies to each vote, and the nullifier that
spends a code (polls.domain.voter_secrets: made from the card's voter secret, which only the
card's code unwraps).

Both ballot stores apply them: SQLAlchemy's (PostgreSQL) and the SQLite writer process, which
imports this module without SQLAlchemy or pydantic, so it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from polls.domain.poll_states import Assurance, PollStatus
from polls.domain.voter_secrets import card_nullifier, unwrap_secret
from polls.errors import AlreadyVoted, CodeNotValid, ErrorCode, PollNotOpen, PollsError
from polls.i18n import N_

BROWSER = "browser:"  # references of open-poll voters are a random per-browser id

ALREADY_USED = "This code has already been used to vote in this poll"
UNKNOWN_CODE = N_("We do not recognise this code. Check it against your poll card.")


# What a batch's transaction may refuse a vote with, by name (the SQLite writer process sends names).
REFUSALS: dict[str, type[PollsError]] = {c.__name__: c for c in (AlreadyVoted, PollNotOpen, CodeNotValid)}


class PollScope(Protocol):
    """Who may take part in a poll: its pilot, and its areas (none: the whole pilot)."""

    @property
    def id(self) -> int: ...
    @property
    def pilot_id(self) -> int: ...
    @property
    def area_ids(self) -> frozenset[int]: ...


class PendingVote(Protocol):
    """A vote in a batch: the rules read its poll and credential, and fill in what the code says.

    ``credential`` finds the card: its short digest (or, in an open poll, the browser's id);
    ``unwrap`` is the pad from the card's code that unwraps its voter secret."""

    credential: str
    unwrap: str
    channel: str
    nullifier: str
    area_id: int | None

    @property
    def poll(self) -> PollScope: ...
    @property
    def assurance(self) -> str: ...


V = TypeVar("V", bound=PendingVote)


@dataclass
class CodeFacts:
    pilot_id: int
    area_id: int | None
    revoked: bool
    kind: str
    poll_id: int | None
    wrapped_secret: str | None  # cards issued since migration 0010
    voter_key: str | None  # legacy cards: the first card's reference, shared by its replacement


def nullifier(key: bytes, poll_id: int, reference: str) -> str:
    """The nullifier of an open poll's browser, or of a legacy card (keyed on its voter_key)."""
    return hmac.digest(key, f"{poll_id}:{reference}".encode(), "sha256").hex()


def vote_nullifier(vote: PendingVote, facts: CodeFacts | None, key: bytes) -> str:
    if facts is None:  # a browser in an open poll
        return nullifier(key, vote.poll.id, vote.credential)
    if facts.wrapped_secret is None:
        return nullifier(key, vote.poll.id, facts.voter_key or "")
    return card_nullifier(unwrap_secret(facts.wrapped_secret, vote.unwrap), vote.poll.id)


def admit(
    votes: Sequence[V], statuses: Mapping[int, str], codes: Mapping[str, CodeFacts], key: bytes
) -> tuple[list[V], list[tuple[V, PollsError]]]:
    """Within a batch's transaction: the votes whose codes may vote (each given its nullifier,
    area and channel), the first of any two spending one nullifier, and the rest refused."""
    live: list[V] = []
    refused: list[tuple[V, PollsError]] = []
    seen: set[tuple[int, str]] = set()
    for vote in votes:
        problem = refusal(vote, statuses.get(vote.poll.id), codes)
        if problem is None:
            vote.nullifier = vote_nullifier(vote, codes.get(vote.credential), key)
            if (vote.poll.id, vote.nullifier) in seen:
                problem = AlreadyVoted(ALREADY_USED)  # two votes with one code in the same batch
        if problem is not None:
            refused.append((vote, problem))
            continue
        seen.add((vote.poll.id, vote.nullifier))
        live.append(vote)
    return live, refused


def spent(live: Sequence[V], inserted: set[tuple[int, str]]) -> tuple[list[V], list[tuple[V, PollsError]]]:
    """Split a batch by whether its nullifier went in (accepted) or was already there."""
    accepted: list[V] = []
    refused: list[tuple[V, PollsError]] = []
    for vote in live:
        if (vote.poll.id, vote.nullifier) in inserted:
            accepted.append(vote)
        else:
            refused.append((vote, AlreadyVoted(ALREADY_USED)))
    return accepted, refused


def refusal(vote: PendingVote, status: str | None, codes: Mapping[str, CodeFacts]) -> PollsError | None:
    """Why this vote may not be cast (None: it may, and its area and channel are now set)."""
    if status != PollStatus.OPEN.value:
        return PollNotOpen("This poll is not open for voting")
    if vote.credential.startswith(BROWSER):
        if vote.assurance != Assurance.OPEN:
            return CodeNotValid("This poll needs the code from your poll card")
        return None
    facts = codes.get(vote.credential)
    if facts is None:
        return CodeNotValid(UNKNOWN_CODE, code=ErrorCode.CODE_UNKNOWN)
    if facts.pilot_id != vote.poll.pilot_id:
        return CodeNotValid("This code is not valid for this poll")
    if facts.wrapped_secret is not None and len(vote.unwrap) != 64:
        return CodeNotValid("This voting link is out of date: type the code from your card",
                            code=ErrorCode.CODE_INVALID)  # fmt: skip
    if facts.revoked:
        return CodeNotValid("This code has been cancelled (reported lost). Use the new code you were sent.",
                            code=ErrorCode.CODE_REVOKED)  # fmt: skip
    if facts.kind == "event" and facts.poll_id != vote.poll.id:
        return CodeNotValid("This event code is for a different poll")
    if vote.assurance == Assurance.POLL_CARD and facts.kind != "poll_card":
        return CodeNotValid("This poll needs the code from your poll card")
    if vote.poll.area_ids and facts.area_id not in vote.poll.area_ids:
        return CodeNotValid(
            "This poll is for other areas: your code's area is not taking part", code=ErrorCode.WRONG_AREA
        )
    vote.area_id = facts.area_id
    if facts.kind == "event" and vote.channel == "online":
        vote.channel = "event"  # turnout per channel: codes handed out at events count as "event"
    return None
