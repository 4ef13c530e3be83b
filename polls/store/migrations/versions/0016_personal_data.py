"""personal data in jury pools: a retention period per pilot, and when a pool's was erased

Revision ID: 0016_personal_data
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_personal_data"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pilots") as batch_op:
        batch_op.add_column(
            sa.Column("personal_data_days", sa.Integer(), nullable=False, server_default="90")
        )
    with op.batch_alter_table("juries") as batch_op:
        batch_op.add_column(sa.Column("personal_data_erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("juries") as batch_op:
        batch_op.drop_column("personal_data_erased_at")
    with op.batch_alter_table("pilots") as batch_op:
        batch_op.drop_column("personal_data_days")
