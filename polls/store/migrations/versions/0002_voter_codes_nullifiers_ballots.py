"""voter codes, nullifiers, ballots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:56:08.056683
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_keys",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "ballots",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("tracker", sa.String(length=64), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("poll_id", "tracker"),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "code_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("poll_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["pilot_id"], ["pilots.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("code_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_batches_pilot_id"), ["pilot_id"], unique=False)

    op.create_table(
        "nullifiers",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("poll_id", "value"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "voter_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("short_digest", sa.String(length=64), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("replaces", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["batch_id"], ["code_batches.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pilot_id"], ["pilots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.UniqueConstraint("short_digest"),
    )
    with op.batch_alter_table("voter_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voter_codes_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_voter_codes_pilot_id"), ["pilot_id"], unique=False)

    # The key for nullifiers and short-code digests. It must never change (stored hashes depend
    # on it), so it lives with the data rather than in SECRET_KEYS, which rotate.
    op.bulk_insert(
        sa.table("service_keys", sa.column("name", sa.String), sa.column("value", sa.String)),
        [{"name": "ballot_key", "value": secrets.token_hex(32)}],
    )


def downgrade() -> None:
    with op.batch_alter_table("voter_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voter_codes_pilot_id"))
        batch_op.drop_index(batch_op.f("ix_voter_codes_batch_id"))

    op.drop_table("voter_codes")
    op.drop_table("nullifiers")
    with op.batch_alter_table("code_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_code_batches_pilot_id"))

    op.drop_table("code_batches")
    op.drop_table("ballots")
    op.drop_table("service_keys")
