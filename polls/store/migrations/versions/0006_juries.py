"""juries, recruitment pools, draws and juror invitations

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "juries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pilot_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("remit", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("households_apart", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("quotas", sa.JSON(), nullable=False),
        sa.Column("solve", sa.JSON(), nullable=True),
        sa.Column("lottery", sa.JSON(), nullable=True),
        sa.Column("lottery_facts", sa.JSON(), nullable=True),
        sa.Column("seed_sha256", sa.String(length=64), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draw", sa.JSON(), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pilot_id"], ["pilots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("juries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_juries_pilot_id"), ["pilot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_juries_status"), ["status"], unique=False)

    op.create_table(
        "jury_pool_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jury_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["jury_id"], ["juries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("jury_id", "person_id"),
    )
    with op.batch_alter_table("jury_pool_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jury_pool_members_jury_id"), ["jury_id"], unique=False)

    op.create_table(
        "jurors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jury_id", sa.Integer(), nullable=False),
        sa.Column("pool_member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("invite_nonce", sa.String(length=32), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invite_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("room_nonce", sa.String(length=32), nullable=True),
        sa.Column("display_name", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["jury_id"], ["juries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pool_member_id"], ["jury_pool_members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["replaces_id"], ["jurors.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("jury_id", "pool_member_id"),
    )
    with op.batch_alter_table("jurors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jurors_jury_id"), ["jury_id"], unique=False)


def downgrade() -> None:
    op.drop_table("jurors")
    op.drop_table("jury_pool_members")
    op.drop_table("juries")
