"""Tables of the local store (SQLAlchemy Core; SQLite by default, PostgreSQL for replicas).

The store is the system of record for what ServiceTitan cannot hold for us: booking idempotency
records, escalations, interactions and the audit chain.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# Every change to these tables ships as an Alembic revision in ``store/migrations/versions`` (a test
# compares the migrated schema with these tables, on SQLite and PostgreSQL).
metadata = MetaData()

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


# One conversation with one lead or customer. The server is its system of record (ServiceTitan has
# no public API for its Interactions page) and links it to ServiceTitan's lead, customer and job.
interactions = Table(
    "interactions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("goal", String(32), nullable=False),  # Speed to Lead | Inbound SMS | Inbound Voice
    Column("channel", String(32), nullable=False),  # SMS Agent | Voice Agent
    Column("type", String(16), nullable=False),  # Lead | Customer
    Column("status", String(40), nullable=False),
    Column("name", String(200)),
    Column("phone", String(20)),
    Column("email", String(200)),
    Column("street", String(200)),
    Column("city", String(100)),
    Column("state", String(8)),
    Column("zip", String(10)),
    Column("request", Text),  # what the lead asked for, as received
    Column("source", String(100)),
    Column("campaign_id", BigInteger),
    Column("servicetitan_lead_id", BigInteger),
    Column("customer_id", BigInteger),
    Column("location_id", BigInteger),
    Column("job_id", BigInteger),
    Column("job_number", String(64)),
    Column("summary", Text),  # the Overview Summary, when the agent wrote one
    Column("outcome", Text),
    Column("status_reason", Text),
    Column("taken_over_by", String(200)),
    Column("duplicate_of", String(40)),
    Column("in_service_area", Boolean),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("first_outbound_at", DateTime(timezone=True)),
    Column("last_inbound_at", DateTime(timezone=True)),
    Column("last_activity_at", DateTime(timezone=True), nullable=False),
    Column("inbound_count", Integer, nullable=False, default=0),
    Column("outbound_count", Integer, nullable=False, default=0),
)
Index("ix_interactions_activity", interactions.c.last_activity_at, interactions.c.id)
Index("ix_interactions_phone", interactions.c.phone)
Index("ix_interactions_lead", interactions.c.servicetitan_lead_id)
Index("ix_interactions_customer", interactions.c.customer_id)

messages = Table(
    "messages",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("interaction_id", String(40), ForeignKey("interactions.id"), nullable=False),
    Column("direction", String(8), nullable=False),  # inbound | outbound
    Column("channel", String(8), nullable=False),  # sms | voice
    Column("sender", String(16), nullable=False),  # agent | lead | human
    Column("sender_name", String(200)),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_messages_interaction", messages.c.interaction_id, messages.c.created_at)

calls = Table(
    "calls",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("interaction_id", String(40), ForeignKey("interactions.id"), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("transcript", Text, nullable=False),
    Column("recording_url", String(500)),
    Column("duration_seconds", Integer, nullable=False),
    Column("outcome", String(100)),
    Column("sender", String(16), nullable=False),
    Column("sender_name", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_calls_interaction", calls.c.interaction_id, calls.c.created_at)

status_history = Table(
    "status_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("interaction_id", String(40), ForeignKey("interactions.id"), nullable=False),
    Column("from_status", String(40)),
    Column("to_status", String(40), nullable=False),
    Column("reason", Text),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_status_history_interaction", status_history.c.interaction_id, status_history.c.id)

# Phones that opted out (STOP or a plain-language revocation), across interactions and channels. A row
# stays after an opt-in (active=False) so the record of consent is never lost.
suppressions = Table(
    "suppressions",
    metadata,
    Column("phone", String(20), primary_key=True),  # E.164
    Column("active", Boolean, nullable=False),
    Column("opted_out_at", DateTime(timezone=True), nullable=False),
    Column("interaction_id", String(40)),
    Column("channel", String(8), nullable=False),  # sms | voice
    Column("reason", Text, nullable=False),
    # The one confirmation allowed after an opt-out (FCC: within 5 minutes, nothing after it).
    Column("confirmation_sent_at", DateTime(timezone=True)),
    Column("opted_in_at", DateTime(timezone=True)),
)

# How an outbound message left: which gateway, the provider's id and what it said (then, through
# status callbacks, how far it got).
deliveries = Table(
    "deliveries",
    metadata,
    Column("message_id", String(40), ForeignKey("messages.id"), primary_key=True),
    Column("gateway", String(16), nullable=False),
    Column("provider_message_id", String(64)),
    Column("status", String(16), nullable=False),  # the furthest the provider reported (never back)
    Column("error_code", String(16)),  # the provider's code when delivery failed, e.g. Twilio's "30007"
)
Index("ix_deliveries_provider", deliveries.c.provider_message_id)

# Progress markers of background jobs (the ServiceTitan leads poller's createdOnOrAfter).
watermarks = Table(
    "watermarks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", DateTime(timezone=True), nullable=False),
)

# The audit trail: append-only, hash-chained (policy/audit.py). ``seq`` is assigned by the writer as
# last + 1 — never autoincrement — so two writers that read the same last record collide on the key
# instead of forking the chain; the loser re-reads and retries (store/audit.py).
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(40), nullable=False, unique=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),  # tool_call | compliance | permission
    Column("principal", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("transport", String(16), nullable=False),  # stdio | http | sse | memory | webhook | cli | …
    Column("tool", String(100), nullable=False),  # the tool, or the decision's name
    Column("arguments", Text, nullable=False),  # canonical JSON, masked
    Column("outcome", String(16), nullable=False),  # ok | denied | blocked | error
    Column("reason", Text),
    Column("interaction_id", String(40)),
    Column("upstream_requests", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_events_at", audit_events.c.at)

# Webhook deliveries already taken in (Twilio's MessageSid, a status callback's MessageSid + status), so a
# retried or replayed request changes nothing. Written in the same transaction as what the request did.
webhook_receipts = Table(
    "webhook_receipts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("source", String(32), primary_key=True),  # e.g. twilio.inbound, twilio.status
    Column("key", String(128), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
