"""paper ballots held for a second officer: the pilot setting and the held batches

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pilots") as batch_op:
        batch_op.add_column(
            sa.Column("paper_second_officer", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "paper_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ballots", sa.JSON(), nullable=False),
        sa.Column("spent", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("paper_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_batches_poll_id"), ["poll_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paper_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_batches_poll_id"))
    op.drop_table("paper_batches")
    with op.batch_alter_table("pilots") as batch_op:
        batch_op.drop_column("paper_second_officer")
