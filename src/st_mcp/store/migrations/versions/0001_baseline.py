"""Baseline: the store as it was when migrations began (what ``create_all`` made at schema version 4).

Each table is created only where it is missing, so a store made before migrations is adopted as it is:
its tables are kept, the ones an older version lacked are created, the column the last in-place upgrade
added (``deliveries.error_code``) is added if missing, and the old version table goes.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _create_audit_events() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("tool", sa.String(length=100), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("interaction_id", sa.String(length=40), nullable=True),
        sa.Column("upstream_requests", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"], unique=False)


def _create_bookings() -> None:
    op.create_table(
        "bookings",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("job_type_id", sa.BigInteger(), nullable=False),
        sa.Column("business_unit_id", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interaction_id", sa.String(length=64), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("job_number", sa.String(length=64), nullable=True),
        sa.Column("appointment_id", sa.BigInteger(), nullable=True),
        sa.Column("principal", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key"),
    )


def _create_escalations() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("interaction_id", sa.String(length=64), nullable=True),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("servicetitan_task_id", sa.BigInteger(), nullable=True),
        sa.Column("servicetitan_lead_follow_up", sa.String(length=64), nullable=True),
        sa.Column("principal", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _create_interactions() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("goal", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=True),
        sa.Column("zip", sa.String(length=10), nullable=True),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column("servicetitan_lead_id", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("location_id", sa.BigInteger(), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("job_number", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("taken_over_by", sa.String(length=200), nullable=True),
        sa.Column("duplicate_of", sa.String(length=40), nullable=True),
        sa.Column("in_service_area", sa.Boolean(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_outbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inbound_count", sa.Integer(), nullable=False),
        sa.Column("outbound_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_interactions_activity", "interactions", ["last_activity_at", "id"], unique=False)
    op.create_index("ix_interactions_customer", "interactions", ["customer_id"], unique=False)
    op.create_index("ix_interactions_lead", "interactions", ["servicetitan_lead_id"], unique=False)
    op.create_index("ix_interactions_phone", "interactions", ["phone"], unique=False)


def _create_leases() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def _create_server_secrets() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def _create_suppressions() -> None:
    op.create_table(
        "suppressions",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interaction_id", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("confirmation_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opted_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("phone"),
    )


def _create_watermarks() -> None:
    op.create_table(
        "watermarks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def _create_calls() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("interaction_id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=100), nullable=True),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_calls_interaction", "calls", ["interaction_id", "created_at"], unique=False)


def _create_messages() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("interaction_id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_messages_interaction", "messages", ["interaction_id", "created_at"], unique=False)


def _create_status_history() -> None:
    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("interaction_id", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=40), nullable=True),
        sa.Column("to_status", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_history_interaction", "status_history", ["interaction_id", "id"], unique=False)


def _create_deliveries() -> None:
    op.create_table(
        "deliveries",
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
        ),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_deliveries_provider", "deliveries", ["provider_message_id"], unique=False)


# In dependency order: a table comes after the tables its foreign keys point at.
TABLES: list[tuple[str, Callable[[], None]]] = [
    ("audit_events", _create_audit_events),
    ("bookings", _create_bookings),
    ("escalations", _create_escalations),
    ("interactions", _create_interactions),
    ("leases", _create_leases),
    ("server_secrets", _create_server_secrets),
    ("suppressions", _create_suppressions),
    ("watermarks", _create_watermarks),
    ("calls", _create_calls),
    ("messages", _create_messages),
    ("status_history", _create_status_history),
    ("deliveries", _create_deliveries),
]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, create in TABLES:
        if name not in existing:
            create()
    if "deliveries" in existing:
        columns = {column["name"] for column in inspector.get_columns("deliveries")}
        if "error_code" not in columns:
            op.add_column("deliveries", sa.Column("error_code", sa.String(length=16), nullable=True))
    if "schema_version" in existing:
        op.drop_table("schema_version")


def downgrade() -> None:
    for name, _ in reversed(TABLES):
        op.drop_table(name)
