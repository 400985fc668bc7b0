"""durable inbox, sent-reply markers, submission source keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data_key_id", sa.String(length=32), nullable=False),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
        sa.Column("blob_ids", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["data_key_id"],
            ["data_keys.id"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "sent_replies",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.add_column("submissions", sa.Column("source_key", sa.String(length=64), nullable=True))
    op.create_index("ix_submissions_source_key", "submissions", ["source_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_submissions_source_key", table_name="submissions")
    op.drop_column("submissions", "source_key")
    op.drop_table("sent_replies")
    op.drop_table("inbox")
