"""Tables of the local store (SQLAlchemy Core; SQLite by default, PostgreSQL for replicas).

The store is the system of record for what ServiceTitan cannot hold for us: booking idempotency
records and escalations now; interactions and the audit chain later.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 1

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# One row per booking attempt key. Written as "pending" *before* ServiceTitan is asked to create
# the job, and completed after, so a crash in between is detectable and reconcilable.
bookings = Table(
    "bookings",
    metadata,
    Column("idempotency_key", String(200), primary_key=True),
    Column("status", String(16), nullable=False),  # pending | booked
    Column("request_fingerprint", String(64), nullable=False),
    Column("customer_id", BigInteger, nullable=False),
    Column("location_id", BigInteger, nullable=False),
    Column("job_type_id", BigInteger, nullable=False),
    Column("business_unit_id", BigInteger, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("interaction_id", String(64)),
    Column("job_id", BigInteger),
    Column("job_number", String(64)),
    Column("appointment_id", BigInteger),
    Column("principal", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Secrets this server generates for itself (e.g. the slot_id signing key), shared by every process
# that uses the same database, so a slot offered by one replica can be booked through another.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

# Short leases that serialize bookings of one window across processes (portable: SQLite and
# PostgreSQL alike); an expired lease is taken over, so a crashed holder cannot block forever.
leases = Table(
    "leases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("interaction_id", String(64)),
    Column("lead_id", BigInteger),
    Column("phone", String(32)),
    Column("reason", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("servicetitan_task_id", BigInteger),
    Column("servicetitan_lead_follow_up", String(64)),
    Column("principal", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
