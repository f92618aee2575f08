"""Counters in SQL: indexes for the Interactions queries, a rollup kept by triggers, and search.

* Indexes for what ``store/interactions.py`` and the lead queue ask: the period (``received_at``), a
  status's oldest first (the queue), and the inbound messages of the last 24 hours (High Activity).
* ``interaction_counts`` (per tenant, UTC day and UTC month, goal, channel, type, status: conversations,
  contacted, responded, converted) and ``speed_to_lead_counts`` (per tenant, day and month, goal,
  channel: a histogram of first-touch delays in fixed buckets), both kept by triggers on ``interactions``
  — so every writer, the server's or a script's, moves the counts in the same transaction as the change
  it counts — and backfilled here from the rows already stored. ``interaction_stats`` reads whole months,
  then whole days, then the edge days' rows: O(months + days at the ends), not O(rows).
* Search: an FTS5 table with the trigram tokenizer on SQLite, a pg_trgm GIN index on PostgreSQL. Both
  keep the tool's substring semantics ("0193" finds a phone, "smi" finds Smith), case-insensitively.

The rollup's ``tenant`` is '' — the deployment's one tenant — until interactions carry their own (DESIGN
§7); the triggers will then copy it from the row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEARCHED = ("name", "summary", "request", "phone", "source", "job_number")
# Columns whose change moves an interaction between rollup rows.
COUNTED = ("received_at", "goal", "channel", "type", "status", "first_outbound_at", "inbound_count", "job_id")
COUNTS_KEY = "tenant, grain, starts, goal, channel, type, status"
HISTOGRAM_KEY = "tenant, grain, starts, goal, channel, bucket"


def _bucket(seconds: str) -> str:
    """Fixed speed-to-lead buckets, named by their lower bound in seconds: 1 s below 2 minutes, 10 s below
    10 minutes, a minute below an hour, 15 minutes below a day, an hour beyond (``store/counters.py``
    has the same in Python)."""
    s = f"({seconds})"
    return (
        f"CASE WHEN {s} < 120 THEN {s} WHEN {s} < 600 THEN {s} - {s} % 10 "
        f"WHEN {s} < 3600 THEN {s} - {s} % 60 WHEN {s} < 86400 THEN {s} - {s} % 900 "
        f"ELSE {s} - {s} % 3600 END"
    )


# -- SQLite --------------------------------------------------------------------------------------------
def _sqlite_micros(column: str) -> str:
    # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): whole seconds by strftime, the rest exactly.
    seconds = f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"
    return f"({seconds} * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


def _sqlite_delay(row: str) -> str:
    first, received = _sqlite_micros(f"{row}.first_outbound_at"), _sqlite_micros(f"{row}.received_at")
    return f"max(({first} - {received}) / 1000000, 0)"


SQLITE_GRAINS = {"day": "substr({r}.received_at, 1, 10)", "month": "substr({r}.received_at, 1, 7) || '-01'"}


def _sqlite_counts(row: str, sign: str) -> str:
    flags = (
        f"{sign}1, {sign}({row}.first_outbound_at IS NOT NULL), "
        f"{sign}({row}.first_outbound_at IS NOT NULL AND {row}.inbound_count > 0), "
        f"{sign}({row}.job_id IS NOT NULL)"
    )
    return "".join(
        f"INSERT INTO interaction_counts ({COUNTS_KEY}, conversations, contacted, responded, converted) "
        f"SELECT '', '{grain}', {starts.format(r=row)}, {row}.goal, {row}.channel, {row}.type, {row}.status, "
        f"{flags} WHERE true ON CONFLICT ({COUNTS_KEY}) DO UPDATE SET "
        "conversations = conversations + excluded.conversations, contacted = contacted + excluded.contacted, "
        "responded = responded + excluded.responded, converted = converted + excluded.converted; "
        for grain, starts in SQLITE_GRAINS.items()
    )


def _sqlite_histogram(row: str, sign: str) -> str:
    return "".join(
        f"INSERT INTO speed_to_lead_counts ({HISTOGRAM_KEY}, interactions) "
        f"SELECT '', '{grain}', {starts.format(r=row)}, {row}.goal, {row}.channel, "
        f"{_bucket(_sqlite_delay(row))}, {sign}1 WHERE {row}.first_outbound_at IS NOT NULL "
        f"ON CONFLICT ({HISTOGRAM_KEY}) DO UPDATE SET interactions = interactions + excluded.interactions; "
        for grain, starts in SQLITE_GRAINS.items()
    )


def _sqlite_changed() -> str:
    return " OR ".join(
        [f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED if c != "inbound_count"]
        + ["(OLD.inbound_count > 0) IS NOT (NEW.inbound_count > 0)"]
    )


def _sqlite_search_row(row: str) -> str:
    return f"{row}.rowid, " + ", ".join(f"{row}.{c}" for c in SEARCHED)


_COLUMNS = ", ".join(SEARCHED)
SQLITE = [
    "CREATE TRIGGER interactions_count_insert AFTER INSERT ON interactions BEGIN "
    f"{_sqlite_counts('NEW', '+')}{_sqlite_histogram('NEW', '+')}END",
    "CREATE TRIGGER interactions_count_delete AFTER DELETE ON interactions BEGIN "
    f"{_sqlite_counts('OLD', '-')}{_sqlite_histogram('OLD', '-')}END",
    f"CREATE TRIGGER interactions_count_update AFTER UPDATE OF {', '.join(COUNTED)} ON interactions "
    f"WHEN {_sqlite_changed()} BEGIN {_sqlite_counts('OLD', '-')}{_sqlite_histogram('OLD', '-')}"
    f"{_sqlite_counts('NEW', '+')}{_sqlite_histogram('NEW', '+')}END",
    # External-content FTS5: the text stays in ``interactions``; the index follows it by rowid.
    f"CREATE VIRTUAL TABLE interactions_search USING fts5({_COLUMNS}, content='interactions', "
    "content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER interactions_search_insert AFTER INSERT ON interactions BEGIN "
    f"INSERT INTO interactions_search (rowid, {_COLUMNS}) VALUES ({_sqlite_search_row('NEW')}); END",
    "CREATE TRIGGER interactions_search_delete AFTER DELETE ON interactions BEGIN "
    f"INSERT INTO interactions_search (interactions_search, rowid, {_COLUMNS}) "
    f"VALUES ('delete', {_sqlite_search_row('OLD')}); END",
    f"CREATE TRIGGER interactions_search_update AFTER UPDATE OF {_COLUMNS} ON interactions BEGIN "
    f"INSERT INTO interactions_search (interactions_search, rowid, {_COLUMNS}) "
    f"VALUES ('delete', {_sqlite_search_row('OLD')}); "
    f"INSERT INTO interactions_search (rowid, {_COLUMNS}) VALUES ({_sqlite_search_row('NEW')}); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS interactions_search_update",
    "DROP TRIGGER IF EXISTS interactions_search_delete",
    "DROP TRIGGER IF EXISTS interactions_search_insert",
    "DROP TABLE IF EXISTS interactions_search",
    "DROP TRIGGER IF EXISTS interactions_count_update",
    "DROP TRIGGER IF EXISTS interactions_count_delete",
    "DROP TRIGGER IF EXISTS interactions_count_insert",
]
SQLITE_BACKFILL = [
    *(
        f"INSERT INTO interaction_counts ({COUNTS_KEY}, conversations, contacted, responded, converted) "
        f"SELECT '', '{grain}', {starts.format(r='interactions')}, goal, channel, type, status, count(*), "
        "sum(first_outbound_at IS NOT NULL), sum(first_outbound_at IS NOT NULL AND inbound_count > 0), "
        "sum(job_id IS NOT NULL) FROM interactions GROUP BY 3, 4, 5, 6, 7"
        for grain, starts in SQLITE_GRAINS.items()
    ),
    *(
        f"INSERT INTO speed_to_lead_counts ({HISTOGRAM_KEY}, interactions) "
        f"SELECT '', '{grain}', {starts.format(r='interactions')}, goal, channel, "
        f"{_bucket(_sqlite_delay('interactions'))}, count(*) "
        "FROM interactions WHERE first_outbound_at IS NOT NULL GROUP BY 3, 4, 5, 6"
        for grain, starts in SQLITE_GRAINS.items()
    ),
    "INSERT INTO interactions_search (interactions_search) VALUES ('rebuild')",
]

# -- PostgreSQL ----------------------------------------------------------------------------------------
_PG_DELAY = "GREATEST(floor(extract(epoch FROM (r.first_outbound_at - r.received_at))), 0)::bigint"
_PG_DAY = "(r.received_at AT TIME ZONE 'UTC')::date"
_PG_MONTH = "date_trunc('month', r.received_at AT TIME ZONE 'UTC')::date"
POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION st_mcp_count_interaction(r interactions, sign integer, g text, s date)
RETURNS void AS $$
DECLARE
    delay bigint := {_PG_DELAY};
BEGIN
    INSERT INTO interaction_counts AS t ({COUNTS_KEY}, conversations, contacted, responded, converted)
    VALUES ('', g, s, r.goal, r.channel, r.type, r.status, sign,
            sign * (r.first_outbound_at IS NOT NULL)::int,
            sign * (r.first_outbound_at IS NOT NULL AND r.inbound_count > 0)::int,
            sign * (r.job_id IS NOT NULL)::int)
    ON CONFLICT ({COUNTS_KEY}) DO UPDATE SET
        conversations = t.conversations + excluded.conversations,
        contacted = t.contacted + excluded.contacted,
        responded = t.responded + excluded.responded,
        converted = t.converted + excluded.converted;
    IF r.first_outbound_at IS NOT NULL THEN
        INSERT INTO speed_to_lead_counts AS t ({HISTOGRAM_KEY}, interactions)
        VALUES ('', g, s, r.goal, r.channel, {_bucket("delay")}, sign)
        ON CONFLICT ({HISTOGRAM_KEY}) DO UPDATE SET interactions = t.interactions + excluded.interactions;
    END IF;
END;
$$ LANGUAGE plpgsql
"""
POSTGRES_TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION st_mcp_interactions_counted() RETURNS trigger AS $$
DECLARE
    r interactions;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        r := OLD;
        PERFORM st_mcp_count_interaction(r, -1, 'day', {_PG_DAY});
        PERFORM st_mcp_count_interaction(r, -1, 'month', {_PG_MONTH});
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        r := NEW;
        PERFORM st_mcp_count_interaction(r, 1, 'day', {_PG_DAY});
        PERFORM st_mcp_count_interaction(r, 1, 'month', {_PG_MONTH});
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_PG_CHANGED = " OR ".join(
    [f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COUNTED if c != "inbound_count"]
    + ["(OLD.inbound_count > 0) IS DISTINCT FROM (NEW.inbound_count > 0)"]
)
# The searched text as one lower-cased string; store/search.py queries this exact expression.
PG_SEARCH_DOCUMENT = "lower(" + " || chr(31) || ".join(f"coalesce({c}, '')" for c in SEARCHED) + ")"
POSTGRES = [
    POSTGRES_FUNCTION,
    POSTGRES_TRIGGER_FUNCTION,
    "CREATE TRIGGER interactions_count_insert_delete AFTER INSERT OR DELETE ON interactions "
    "FOR EACH ROW EXECUTE FUNCTION st_mcp_interactions_counted()",
    f"CREATE TRIGGER interactions_count_update AFTER UPDATE OF {', '.join(COUNTED)} ON interactions "
    f"FOR EACH ROW WHEN ({_PG_CHANGED}) EXECUTE FUNCTION st_mcp_interactions_counted()",
    # pg_trgm is a trusted extension (PostgreSQL 13+): any role that may create in the database adds it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX ix_interactions_search ON interactions USING gin (({PG_SEARCH_DOCUMENT}) gin_trgm_ops)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_interactions_search",
    "DROP TRIGGER IF EXISTS interactions_count_update ON interactions",
    "DROP TRIGGER IF EXISTS interactions_count_insert_delete ON interactions",
    "DROP FUNCTION IF EXISTS st_mcp_interactions_counted()",
    "DROP FUNCTION IF EXISTS st_mcp_count_interaction(interactions, integer, text, date)",
]
POSTGRES_BACKFILL = [
    *(
        f"INSERT INTO interaction_counts ({COUNTS_KEY}, conversations, contacted, responded, converted) "
        f"SELECT '', '{grain}', {starts}, r.goal, r.channel, r.type, r.status, count(*), "
        "count(r.first_outbound_at), count(*) FILTER (WHERE r.first_outbound_at IS NOT NULL AND "
        "r.inbound_count > 0), count(r.job_id) FROM interactions AS r GROUP BY 3, 4, 5, 6, 7"
        for grain, starts in (("day", _PG_DAY), ("month", _PG_MONTH))
    ),
    *(
        f"INSERT INTO speed_to_lead_counts ({HISTOGRAM_KEY}, interactions) "
        f"SELECT '', '{grain}', {starts}, r.goal, r.channel, {_bucket(_PG_DELAY)}, count(*) "
        "FROM interactions AS r WHERE r.first_outbound_at IS NOT NULL GROUP BY 3, 4, 5, 6"
        for grain, starts in (("day", _PG_DAY), ("month", _PG_MONTH))
    ),
]


def upgrade() -> None:
    op.create_index("ix_interactions_received", "interactions", ["received_at"])
    op.create_index("ix_interactions_status", "interactions", ["status", "received_at", "id"])
    op.create_index("ix_messages_direction", "messages", ["direction", "created_at"])
    op.create_table(
        "interaction_counts",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("goal", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("contacted", sa.Integer(), nullable=False),
        sa.Column("responded", sa.Integer(), nullable=False),
        sa.Column("converted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "grain", "starts", "goal", "channel", "type", "status"),
    )
    op.create_table(
        "speed_to_lead_counts",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("goal", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("interactions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "grain", "starts", "goal", "channel", "bucket"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    # The rollup is filled from the rows before the triggers exist, the search index after (a rebuild).
    statements = (
        POSTGRES_BACKFILL + POSTGRES if postgres else SQLITE_BACKFILL[:-1] + SQLITE + SQLITE_BACKFILL[-1:]
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DOWN if postgres else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table("speed_to_lead_counts")
    op.drop_table("interaction_counts")
    op.drop_index("ix_messages_direction", table_name="messages")
    op.drop_index("ix_interactions_status", table_name="interactions")
    op.drop_index("ix_interactions_received", table_name="interactions")
