"""After the booking: the export feeds' continuation tokens and the job events (with their texts).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_tokens",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("feed", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "feed"),
    )
    op.create_table(
        "job_events",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("appointment_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("interaction_id", sa.String(length=40), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text_kind", sa.String(length=32), nullable=True),
        sa.Column("text_status", sa.String(length=16), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "job_id", "appointment_id", "event"),
    )
    op.create_index("ix_job_events_pending", "job_events", ["tenant", "text_status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_job_events_pending", table_name="job_events")
    op.drop_table("job_events")
    op.drop_table("export_tokens")
