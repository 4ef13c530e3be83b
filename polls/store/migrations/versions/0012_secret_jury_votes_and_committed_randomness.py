"""the jury draw's public randomness named at publication; secret recommendation votes

Revision ID: 0012
Revises: 0008

Juries published before this revision but not yet drawn named no source of public randomness:
they go back to "Lottery computed", to be published again naming one (their lottery and seed
commitment are unchanged).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("juries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("randomness_source", sa.JSON(), nullable=True))
    juries = sa.table(
        "juries",
        sa.column("status", sa.String),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        juries.update().where(juries.c.status == "published").values(status="computed", published_at=None)
    )


def downgrade() -> None:
    with op.batch_alter_table("juries", schema=None) as batch_op:
        batch_op.drop_column("randomness_source")
