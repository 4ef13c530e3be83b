"""the jury draw's public randomness named at publication; secret recommendation votes

Revision ID: 0012
Revises: 0011

Juries published before this revision but not yet drawn named no source of public randomness:
they go back to "Lottery computed", to be published again naming one (their lottery and seed
commitment are unchanged).

Recommendation votes logged before this revision were cast as secret (the room showed nobody how
a juror voted), so they stay secret: each ``vote_cast`` event becomes ``juror_voted`` (who, not
how), each ``vote_closed`` event gains the tally those votes gave, and a vote still open keeps
its running tally in ``jury_secret_tallies``. Stepping down drops that table; the choices
stripped from the log cannot be brought back.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


CHOICES = ("yes", "no", "abstain")
events = sa.table(
    "jury_events",
    sa.column("id", sa.Integer),
    sa.column("session_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("type", sa.String),
    sa.column("payload", sa.JSON),
)


def upgrade() -> None:
    tallies = op.create_table(
        "jury_secret_tallies",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("recommendation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["jury_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "recommendation"),
    )
    bind = op.get_bind()
    sessions = bind.execute(sa.select(events.c.session_id).where(events.c.type == "vote_cast").distinct())
    for (session_id,) in sessions.all():
        still_open = _strip_votes(bind, session_id)
        for rec, counts in still_open.items():
            bind.execute(tallies.insert().values(session_id=session_id, recommendation=rec, **counts))
    # Plain ALTER TABLE (SQLite has ADD and DROP COLUMN): a batch copy of juries would cascade
    # deletes into its sessions and jurors while foreign keys are on.
    op.add_column("juries", sa.Column("randomness_source", sa.JSON(), nullable=True))
    juries = sa.table(
        "juries",
        sa.column("status", sa.String),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        juries.update().where(juries.c.status == "published").values(status="computed", published_at=None)
    )


def _strip_votes(bind: Any, session_id: int) -> dict[int, dict[str, int]]:
    """Rewrite one session's votes as secret ones; the tallies of votes still open."""
    query = sa.select(events).where(events.c.session_id == session_id).order_by(events.c.seq)
    ballots: dict[int, dict[int, str]] = {}  # open votes: recommendation -> juror -> choice
    for row in bind.execute(query).mappings().all():
        data = dict(row["payload"])
        rec = int(data.get("recommendation", 0))
        if row["type"] == "vote_opened":
            ballots[rec] = {}
        elif row["type"] == "vote_cast":
            ballots.setdefault(rec, {})[data["juror"]] = data["choice"]
            voted = {"recommendation": rec, "juror": data["juror"]}
            bind.execute(
                events.update().where(events.c.id == row["id"]).values(type="juror_voted", payload=voted)
            )
        elif row["type"] == "juror_removed":
            for votes in ballots.values():
                votes.pop(data["juror"], None)
        elif row["type"] == "vote_closed":
            cast = Counter((ballots.pop(rec, {})).values())
            data["counts"] = {choice: cast.get(choice, 0) for choice in CHOICES}
            bind.execute(events.update().where(events.c.id == row["id"]).values(payload=data))
    return {rec: {c: Counter(votes.values()).get(c, 0) for c in CHOICES} for rec, votes in ballots.items()}


def downgrade() -> None:
    op.drop_table("jury_secret_tallies")
    op.execute("ALTER TABLE juries DROP COLUMN randomness_source")
