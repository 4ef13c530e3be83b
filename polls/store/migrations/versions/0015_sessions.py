"""staff sessions kept server-side, so signing out (or out everywhere) ends them; roles given
to existing accounts by council admins wait for their owner to accept

Revision ID: 0015_sessions
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_sessions"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions signed before this revision have no row and so end: staff sign in again once.
    op.create_table(
        "staff_sign_ins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_sign_ins_staff_id", "staff_sign_ins", ["staff_id"])
    with op.batch_alter_table("staff_roles") as batch_op:
        batch_op.add_column(sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("invited_name", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_roles") as batch_op:
        batch_op.drop_column("invited_name")
        batch_op.drop_column("pending")
    op.drop_index("ix_staff_sign_ins_staff_id", table_name="staff_sign_ins")
    op.drop_table("staff_sign_ins")
