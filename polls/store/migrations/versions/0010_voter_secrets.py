"""voter secrets: cards carry a secret wrapped under their own code and sealed to the returning
officer; pilots carry the officer's public key

Cards issued before this revision keep their voter_key (legacy: their nullifiers are keyed on a
reference the service can recompute; docs/ballot-secrecy.md says what that means).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pilots") as batch_op:
        batch_op.add_column(sa.Column("officer_public_key", sa.String(length=80), nullable=True))
    with op.batch_alter_table("voter_codes") as batch_op:
        batch_op.add_column(sa.Column("wrapped_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sealed_secret", sa.String(length=160), nullable=True))
    # Every card so far is legacy: make sure each has the key its nullifiers were made from.
    op.execute("UPDATE voter_codes SET voter_key = reference WHERE voter_key IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("voter_codes") as batch_op:
        batch_op.drop_column("sealed_secret")
        batch_op.drop_column("wrapped_secret")
    with op.batch_alter_table("pilots") as batch_op:
        batch_op.drop_column("officer_public_key")
