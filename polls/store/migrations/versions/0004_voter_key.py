"""voter codes carry the key their nullifiers are made from (shared by replacement cards)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voter_codes") as batch_op:
        batch_op.add_column(sa.Column("voter_key", sa.String(length=32), nullable=True))
    op.execute("UPDATE voter_codes SET voter_key = reference WHERE replaces IS NULL")
    # Replacements take their first card's key; chains are short, so a few passes settle them.
    for _ in range(10):
        op.execute(
            "UPDATE voter_codes SET voter_key = (SELECT old.voter_key FROM voter_codes AS old "
            "WHERE old.reference = voter_codes.replaces) WHERE voter_key IS NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("voter_codes") as batch_op:
        batch_op.drop_column("voter_key")
