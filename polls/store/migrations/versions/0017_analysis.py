"""analysing what residents wrote: themes, analysts' tags, quotes, suggested themes, each
comment's area and channel, and the final report's summary

Revision ID: 0017_analysis
Revises: 0016_personal_data
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_analysis"
down_revision = "0016_personal_data"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Results counted before this revision kept no origins: their counts by area say "not recorded".
    with op.batch_alter_table("official_results") as batch_op:
        batch_op.add_column(
            sa.Column("comment_origins", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pilot_id", sa.Integer(), sa.ForeignKey("pilots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("pilot_id", "name"),
    )
    op.create_index("ix_themes_pilot_id", "themes", ["pilot_id"])
    op.create_table(
        "response_tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("poll_id", sa.Integer(), sa.ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), sa.ForeignKey("themes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("poll_id", "number", "theme_id", "staff_id"),
    )
    for column in ("poll_id", "theme_id", "staff_id"):
        op.create_index(f"ix_response_tags_{column}", "response_tags", [column])
    op.create_table(
        "quoted_responses",
        sa.Column("poll_id", sa.Integer(), sa.ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("marked_by", sa.String(length=254), nullable=False),
        sa.Column("marked_at", UTC_DATETIME, nullable=False),
    )
    op.create_table(
        "theme_suggestions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("poll_id", sa.Integer(), sa.ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("key_phrases", sa.JSON(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("theme_id", sa.Integer(), sa.ForeignKey("themes.id", ondelete="SET NULL"), nullable=True),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_theme_suggestions_poll_id", "theme_suggestions", ["poll_id"])
    op.create_table(
        "poll_reports",
        sa.Column("poll_id", sa.Integer(), sa.ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("poll_reports")
    op.drop_table("theme_suggestions")
    op.drop_table("quoted_responses")
    op.drop_table("response_tags")
    op.drop_table("themes")
    with op.batch_alter_table("official_results") as batch_op:
        batch_op.drop_column("comment_origins")
