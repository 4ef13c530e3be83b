"""the council's responses to a jury's recommendations, and published jury reports

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jury_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jury_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["jury_id"], ["juries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["jury_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "recommendation_id"),
    )
    with op.batch_alter_table("jury_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jury_responses_jury_id"), ["jury_id"], unique=False)

    op.create_table(
        "jury_reports",
        sa.Column("jury_id", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(["jury_id"], ["juries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("jury_id"),
    )


def downgrade() -> None:
    op.drop_table("jury_reports")
    with op.batch_alter_table("jury_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jury_responses_jury_id"))
    op.drop_table("jury_responses")
