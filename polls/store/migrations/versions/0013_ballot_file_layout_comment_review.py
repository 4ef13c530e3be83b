"""the ballot file's layout per poll (each question separately by default), and comments in review

Revision ID: 0013
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("polls") as batch_op:
        batch_op.add_column(
            sa.Column(
                "ballot_file_layout", sa.String(length=20), nullable=False, server_default="per_question"
            )
        )
    # Results counted before this revision published no comments, so they have none to review.
    with op.batch_alter_table("official_results") as batch_op:
        batch_op.add_column(sa.Column("comments", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("official_results") as batch_op:
        batch_op.drop_column("comments")
    with op.batch_alter_table("polls") as batch_op:
        batch_op.drop_column("ballot_file_layout")
