"""personal data in jury pools: a retention period per pilot, and when a pool's was erased

Revision ID: 0016_personal_data
Revises: 0015_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_personal_data"
down_revision = "0015_sessions"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: on SQLite a batch copies the table and drops the old one, and
# with foreign keys on, dropping pilots or juries would delete every row that cascades from them.


def upgrade() -> None:
    op.add_column(
        "pilots", sa.Column("personal_data_days", sa.Integer(), nullable=False, server_default="90")
    )
    op.add_column("juries", sa.Column("personal_data_erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("juries", "personal_data_erased_at")
    op.drop_column("pilots", "personal_data_days")
