"""Tables of the local store (SQLAlchemy Core; SQLite by default, PostgreSQL for replicas).

The store is the system of record for what ServiceTitan cannot hold for us: booking idempotency
records, escalations, interactions and the audit chain.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
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

from st_mcp.store.tenancy import DEFAULT_TENANT, TENANT_LENGTH

# Every change to these tables ships as an Alembic revision in ``store/migrations/versions`` (a test
# compares the migrated schema with these tables, on SQLite and PostgreSQL).
# Every table has a ``tenant`` (migration 0007): natural keys are unique per tenant — (tenant, key) —
# and the listings' indexes lead with it, so one tenant's reads never walk another's rows.
metadata = MetaData()

# One row per booking attempt key. Written as "pending" *before* ServiceTitan is asked to create
# the job, and completed after, so a crash in between is detectable and reconcilable.
bookings = Table(
    "bookings",
    metadata,
    Column("tenant", String(TENANT_LENGTH), primary_key=True, server_default=DEFAULT_TENANT),
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
    Column("tenant", String(TENANT_LENGTH), primary_key=True, server_default=DEFAULT_TENANT),
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

# Short leases that serialize bookings of one window across processes (portable: SQLite and
# PostgreSQL alike); an expired lease is taken over, so a crashed holder cannot block forever.
leases = Table(
    "leases",
    metadata,
    Column("tenant", String(TENANT_LENGTH), primary_key=True, server_default=DEFAULT_TENANT),
    Column("name", String(200), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

escalations = Table(
    "escalations",
    metadata,
    Column("tenant", String(TENANT_LENGTH), nullable=False, server_default=DEFAULT_TENANT),
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
    Column("tenant", String(TENANT_LENGTH), nullable=False, server_default=DEFAULT_TENANT),
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
Index("ix_interactions_activity", interactions.c.tenant, interactions.c.last_activity_at, interactions.c.id)
Index("ix_interactions_phone", interactions.c.tenant, interactions.c.phone)
Index("ix_interactions_lead", interactions.c.tenant, interactions.c.servicetitan_lead_id)
Index("ix_interactions_customer", interactions.c.tenant, interactions.c.customer_id)
# The period of the counters' edge days and the list's since/until; a status's oldest first (the queue).
# Goal, channel and type get no index of their own: a few values each, so an index on them would lead the
# planner to walk a whole goal; they are filtered inside the period's range or the activity order instead
# (and summed per day in the rollup).
Index("ix_interactions_received", interactions.c.tenant, interactions.c.received_at)
Index(
    "ix_interactions_status",
    interactions.c.tenant,
    interactions.c.status,
    interactions.c.received_at,
    interactions.c.id,
)
# Besides these, migration 0004 makes the search index — an FTS5 table (``interactions_search``) on
# SQLite, a pg_trgm expression index on PostgreSQL — and the triggers that keep the rollup below.

messages = Table(
    "messages",
    metadata,
    Column("tenant", String(TENANT_LENGTH), nullable=False, server_default=DEFAULT_TENANT),
    Column("id", String(40), primary_key=True),
    Column("interaction_id", String(40), ForeignKey("interactions.id"), nullable=False),
    Column("direction", String(8), nullable=False),  # inbound | outbound
    Column("channel", String(8), nullable=False),  # sms | voice
    Column("sender", String(16), nullable=False),  # agent | lead | human
    Column("sender_name", String(200)),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_messages_interaction", messages.c.tenant, messages.c.interaction_id, messages.c.created_at)
Index(
    "ix_messages_direction", messages.c.tenant, messages.c.direction, messages.c.created_at
)  # inbound in the last 24 h

calls = Table(
    "calls",
    metadata,
    Column("tenant", String(TENANT_LENGTH), nullable=False, server_default=DEFAULT_TENANT),
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
Index("ix_calls_interaction", calls.c.tenant, calls.c.interaction_id, calls.c.created_at)

status_history = Table(
    "status_history",
    metadata,
    Column("tenant", String(TENANT_LENGTH), nullable=False, server_default=DEFAULT_TENANT),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("interaction_id", String(40), ForeignKey("interactions.id"), nullable=False),
    Column("from_status", String(40)),
    Column("to_status", String(40), nullable=False),
    Column("reason", Text),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index(
    "ix_status_history_interaction",
    status_history.c.tenant,
    status_history.c.interaction_id,
    status_history.c.id,
)

# Phones that opted out (STOP or a plain-language revocation), across interactions and channels. A row
# stays after an opt-in (active=False) so the record of consent is never lost.
suppressions = Table(
    "suppressions",
    metadata,
    Column("tenant", String(TENANT_LENGTH), primary_key=True, server_default=DEFAULT_TENANT),
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
    Column("tenant", String(TENANT_LENGTH), nullable=False, server_default=DEFAULT_TENANT),
    Column("message_id", String(40), ForeignKey("messages.id"), primary_key=True),
    Column("gateway", String(16), nullable=False),
    Column("provider_message_id", String(64)),
    Column("status", String(16), nullable=False),  # the furthest the provider reported (never back)
    Column("error_code", String(16)),  # the provider's code when delivery failed, e.g. Twilio's "30007"
)
Index("ix_deliveries_provider", deliveries.c.tenant, deliveries.c.provider_message_id)

# Progress markers of background jobs (the createdOnOrAfter of the leads poller before it followed the export
# feed: read once, on the upgrade to the feed; a demo clock's start).
watermarks = Table(
    "watermarks",
    metadata,
    Column("tenant", String(TENANT_LENGTH), primary_key=True, server_default=DEFAULT_TENANT),
    Column("name", String(64), primary_key=True),
    Column("value", DateTime(timezone=True), nullable=False),
)

# The audit trail: append-only, hash-chained (policy/audit.py). ``seq`` is assigned by the writer as
# last + 1 — never autoincrement — so two writers that read the same last record collide on the key
# instead of forking the chain; the loser re-reads and retries (store/audit.py).
audit_events = Table(
    "audit_events",
    metadata,
    Column("tenant", String(TENANT_LENGTH), primary_key=True, server_default=DEFAULT_TENANT),
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
Index("ix_audit_events_at", audit_events.c.tenant, audit_events.c.at)

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

# Booking-request mode ([booking] mode = "booking"): a CRM booking a CSR confirms instead of a job. Written
# "pending" before ServiceTitan is asked (its externalId is the key, so a create in doubt is found again),
# "requested" once it exists, "converted" when a CSR has turned it into a job (told_at: the lead was told).
booking_requests = Table(
    "booking_requests",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("status", String(16), nullable=False),  # pending | requested | converted | dismissed
    Column("request_fingerprint", String(64), nullable=False),
    Column("customer_id", BigInteger, nullable=False),
    Column("location_id", BigInteger, nullable=False),
    Column("job_type_id", BigInteger, nullable=False),
    Column("business_unit_id", BigInteger, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("interaction_id", String(64)),
    Column("recurring_event_id", BigInteger),  # a member's tune-up this booking fulfils
    Column("booking_id", BigInteger),
    Column("job_id", BigInteger),
    Column("job_number", String(64)),
    Column("principal", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("converted_at", DateTime(timezone=True)),
    Column("told_at", DateTime(timezone=True)),
)
Index("ix_booking_requests_status", booking_requests.c.tenant, booking_requests.c.status)

# ServiceTitan records already taken in as follow-up interactions, once each, ever: open estimates
# ("Estimate Follow-up") and members' due tune-ups ("Maintenance Reminder").
follow_up_claims = Table(
    "follow_up_claims",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),  # estimate | maintenance
    Column("source_id", BigInteger, primary_key=True),  # the estimate's or the recurring event's id
    Column("interaction_id", String(40)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The Interactions counters per UTC day and per UTC month (``grain``: day | month; ``starts``: the day, or
# the month's first day) of ``received_at``: kept by triggers on ``interactions`` in the same transaction
# as every insert, status change, first touch, first reply or booking (migration 0004), so
# ``interaction_stats`` sums months and days instead of reading rows (store/counters.py). The triggers
# roll up per the interaction's own ``tenant`` (migration 0007).
interaction_counts = Table(
    "interaction_counts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("grain", String(5), primary_key=True),
    Column("starts", Date, primary_key=True),
    Column("goal", String(32), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("type", String(16), primary_key=True),
    Column("status", String(40), primary_key=True),
    Column("conversations", Integer, nullable=False),
    Column("contacted", Integer, nullable=False),  # a first outbound touch
    Column("responded", Integer, nullable=False),  # contacted, and at least one inbound reply
    Column("converted", Integer, nullable=False),  # a booked job
)

# The speed-to-lead histogram: contacted interactions per fixed bucket of (first touch − received), the
# bucket named by its lower bound in seconds (store/counters.py: ``bucket_of``).
speed_to_lead_counts = Table(
    "speed_to_lead_counts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("grain", String(5), primary_key=True),
    Column("starts", Date, primary_key=True),
    Column("goal", String(32), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("interactions", Integer, nullable=False),
)


def managed_by_database(name: str | None) -> bool:
    """The search index's own objects — SQLite's FTS5 table and its shadow tables, PostgreSQL's trigram
    expression index — made by migration 0004, not declared here: schema comparisons skip them."""
    return bool(name) and str(name).startswith(("interactions_search", "ix_interactions_search"))


# Where the job-events watcher and the leads poller got to in each ServiceTitan export feed: the last
# ``continueFrom``.
export_tokens = Table(
    "export_tokens",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("feed", String(64), primary_key=True),  # e.g. jpm/export/appointments
    Column("token", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# What happened to the jobs the server booked (or that an interaction links to), once per event, and the
# text it asks for: pending until the compliance gate lets it out (quiet hours), then sent, or expired
# when it is no longer relevant (the technician arrived before the window opened), or skipped.
job_events = Table(
    "job_events",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("job_id", BigInteger, primary_key=True),
    Column("appointment_id", BigInteger, primary_key=True),  # 0 for events of the job itself
    Column("event", String(32), primary_key=True),  # reminder | dispatched | working | completed | canceled
    Column("interaction_id", String(40)),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("text_kind", String(32)),  # reminder | on_the_way | survey — None: no text for this event
    Column("text_status", String(16)),  # pending | sent | expired | skipped
    Column("due_at", DateTime(timezone=True)),  # when to try the text (again)
    Column("detail", Text),  # why it was skipped or expired; the tracking link for on_the_way
)
Index("ix_job_events_pending", job_events.c.tenant, job_events.c.text_status, job_events.c.due_at)
