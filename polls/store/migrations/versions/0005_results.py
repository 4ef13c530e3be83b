"""official results, council responses and follow-ups; pilots' accessibility statements

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pilots") as batch_op:
        batch_op.add_column(
            sa.Column("accessibility_statement", sa.Text(), nullable=False, server_default="")
        )
    op.create_table(
        "official_results",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("ballots", sa.Integer(), nullable=False),
        sa.Column("turnout", sa.JSON(), nullable=False),
        sa.Column("ballot_file", sa.Text(), nullable=False),
        sa.Column("ballot_file_sha256", sa.String(length=64), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("poll_id"),
    )
    op.create_table(
        "question_results",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["poll_id"], ["official_results.poll_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("question_id"),
    )
    with op.batch_alter_table("question_results") as batch_op:
        batch_op.create_index("ix_question_results_poll_id", ["poll_id"], unique=False)
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("milestone_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pilot_id"], ["pilots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("follow_ups") as batch_op:
        batch_op.create_index("ix_follow_ups_pilot_id", ["pilot_id"], unique=False)
        batch_op.create_index("ix_follow_ups_subject", ["subject_kind", "subject_id"], unique=False)


def downgrade() -> None:
    op.drop_table("follow_ups")
    op.drop_table("question_results")
    op.drop_table("official_results")
    with op.batch_alter_table("pilots") as batch_op:
        batch_op.drop_column("accessibility_statement")
