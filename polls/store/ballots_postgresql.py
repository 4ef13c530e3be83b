"""A batch's transaction on PostgreSQL, on the ballot writer's own asyncpg connection.

The same statements and rules as polls.store.ballots (whose docstring says what the
transaction does and why), sent straight to the driver: the vote path's busiest queries skip
SQLAlchemy's statement building, compilation, greenlet hop and result wrapping, and asyncpg
keeps each one prepared on the connection. A batch's rows go in as one array per column.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from polls.domain.eligibility import CodeFacts, admit, spent
from polls.errors import PollsError
from polls.store.ballots import BallotToWrite, ballot_rows, cards_of, nullifier_rows

B = TypeVar("B", bound=BallotToWrite)

# FOR SHARE: an officer closing the poll waits for this batch, and this batch waits for a close
# already under way, so no ballot lands in a closed poll. The cards' rows are only read.
_POLL_STATUSES = "SELECT id, status FROM polls WHERE id = any($1::integer[]) FOR SHARE"
_CODE_FACTS = (
    "SELECT c.short_digest, c.pilot_id, c.area_id, c.revoked, b.kind, b.poll_id, c.wrapped_secret, "
    "c.voter_key FROM voter_codes AS c JOIN code_batches AS b ON b.id = c.batch_id "
    "WHERE c.short_digest = any($1::varchar[])"
)
_NULLIFIERS = (
    "INSERT INTO nullifiers (poll_id, value) SELECT * FROM unnest($1::integer[], $2::varchar[]) "
    "ON CONFLICT DO NOTHING RETURNING poll_id, value"
)
_BALLOTS = (
    "INSERT INTO ballots (poll_id, area_id, channel, tracker, answers) "
    "SELECT p, a, c, t, j::json FROM unnest($1::integer[], $2::integer[], $3::varchar[], $4::varchar[], "
    "$5::text[]) AS r(p, a, c, t, j)"
)


async def write_batch(conn: Any, votes: list[B], key: bytes) -> tuple[list[B], list[tuple[B, PollsError]]]:
    """The votes accepted (committed), and those refused (and why); ``conn`` an asyncpg
    connection in no transaction."""
    async with conn.transaction():
        statuses = dict(await conn.fetch(_POLL_STATUSES, sorted({v.poll.id for v in votes})))
        codes = await _code_facts(conn, [v.credential for v in votes])
        live, refused = admit(votes, statuses, codes, key)
        if not live:
            return [], refused
        rows = nullifier_rows(live)
        inserted = await conn.fetch(_NULLIFIERS, [r["poll_id"] for r in rows], [r["value"] for r in rows])
        accepted, already = spent(live, {(poll_id, value) for poll_id, value in inserted})
        ballots = ballot_rows(accepted)
        if ballots:
            await conn.execute(
                _BALLOTS,
                *([r[name] for r in ballots] for name in ("poll_id", "area_id", "channel", "tracker")),
                [json.dumps(r["answers"]) for r in ballots],  # as SQLAlchemy's JSON type writes it
            )
    return accepted, refused + already


async def _code_facts(conn: Any, credentials: list[str]) -> dict[str, CodeFacts]:
    wanted = cards_of(credentials)
    if not wanted:
        return {}
    return {row[0]: CodeFacts(*row[1:]) for row in await conn.fetch(_CODE_FACTS, wanted)}
