"""the outbox of messages, residents' results subscriptions, and jurors' email and phone

Revision ID: 0018_messages
Revises: 0017_analysis
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_messages"
down_revision = "0017_analysis"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("personalisation", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(length=80), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("pilot_id", sa.Integer(), sa.ForeignKey("pilots.id", ondelete="CASCADE"), nullable=True),
        sa.Column("jury_id", sa.Integer(), sa.ForeignKey("juries.id", ondelete="CASCADE"), nullable=True),
        sa.Column("juror_id", sa.Integer(), sa.ForeignKey("jurors.id", ondelete="SET NULL"), nullable=True),
        sa.Column("poll_id", sa.Integer(), sa.ForeignKey("polls.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_messages_due", "messages", ["status", "next_attempt_at"])
    op.create_index("ix_messages_provider_id", "messages", ["provider_id"])
    op.create_index("ix_messages_pilot_id", "messages", ["pilot_id"])
    op.create_index("ix_messages_jury_id", "messages", ["jury_id"])
    op.create_index("ix_messages_poll_id", "messages", ["poll_id"])
    op.create_table(
        "result_subscriptions",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("poll_id", sa.Integer(), sa.ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
    )
    op.create_index("ix_result_subscriptions_poll_id", "result_subscriptions", ["poll_id"])
    with op.batch_alter_table("jurors") as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_jurors_email", ["email"])
        batch_op.create_index("ix_jurors_phone", ["phone"])


def downgrade() -> None:
    with op.batch_alter_table("jurors") as batch_op:
        batch_op.drop_index("ix_jurors_phone")
        batch_op.drop_index("ix_jurors_email")
        batch_op.drop_column("phone")
        batch_op.drop_column("email")
    op.drop_index("ix_result_subscriptions_poll_id", "result_subscriptions")
    op.drop_table("result_subscriptions")
    for name in ("poll_id", "jury_id", "pilot_id", "provider_id"):
        op.drop_index(f"ix_messages_{name}", "messages")
    op.drop_index("ix_messages_due", "messages")
    op.drop_table("messages")
