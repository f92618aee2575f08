"""Tenants: every row names its tenant, natural keys are unique per tenant, listings lead with it.

* A NOT NULL ``tenant`` column (server default 'default') on every table that had none; the rows stored
  before tenants existed are the deployment's one tenant, ``'default'`` (``store/tenancy.py``).
* Natural keys become (tenant, key): bookings' idempotency key, server secrets', leases' and watermarks'
  names, suppressions' phone, and the audit chain's ``seq`` (each tenant has its own chain). Tables keyed
  by a generated id (interactions, messages, calls, escalations, …) keep it, and gain the column.
* The rollup (``interaction_counts``, ``speed_to_lead_counts``) had ``tenant`` = '' for the one tenant:
  those rows move to 'default', and the triggers of migration 0004 are replaced by ones that roll up per
  ``NEW.tenant`` / ``OLD.tenant``.
* The indexes the listings and filters use lead with ``tenant`` (on PostgreSQL the search index too).

On SQLite a primary key can only change by copying the table (batch mode); none of those tables has
triggers or is referenced by a foreign key, so nothing else is lost with the copy. Tables only gaining a
column take an ``ADD COLUMN`` in place on both engines (so ``interactions`` keeps its rowids, which the
FTS index follows, and its triggers). The tables that already carried a ``tenant`` (webhook receipts,
export tokens, job events, booking requests, follow-up claims: the ServiceTitan tenant id) are unchanged.

Downgrade refuses a store holding rows of any tenant but 'default' (it would merge them into one).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import SAWarning

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEFAULT = "default"


def _counters_revision() -> ModuleType:
    # The rollup triggers are 0004's with the tenant taken from the row: built from its SQL, not copied.
    path = Path(__file__).with_name("0004_counters.py")
    spec = importlib.util.spec_from_file_location("st_mcp_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


V4 = _counters_revision()

# (table, its natural key): the primary key becomes (tenant, *key).
REKEYED = {
    "bookings": ["idempotency_key"],
    "server_secrets": ["name"],
    "leases": ["name"],
    "suppressions": ["phone"],
    "watermarks": ["name"],
    "audit_events": ["seq"],
}
# Tables keyed by a generated id: the column only.
ADDED = ["escalations", "interactions", "messages", "calls", "status_history", "deliveries"]
# (index, table, its columns after ``tenant``)
INDEXES = [
    ("ix_interactions_activity", "interactions", ["last_activity_at", "id"]),
    ("ix_interactions_phone", "interactions", ["phone"]),
    ("ix_interactions_lead", "interactions", ["servicetitan_lead_id"]),
    ("ix_interactions_customer", "interactions", ["customer_id"]),
    ("ix_interactions_received", "interactions", ["received_at"]),
    ("ix_interactions_status", "interactions", ["status", "received_at", "id"]),
    ("ix_messages_interaction", "messages", ["interaction_id", "created_at"]),
    ("ix_messages_direction", "messages", ["direction", "created_at"]),
    ("ix_calls_interaction", "calls", ["interaction_id", "created_at"]),
    ("ix_status_history_interaction", "status_history", ["interaction_id", "id"]),
    ("ix_deliveries_provider", "deliveries", ["provider_message_id"]),
    ("ix_audit_events_at", "audit_events", ["at"]),
]
COUNTER_TABLES = ("interaction_counts", "speed_to_lead_counts")
# The tenant moves an interaction between rollup rows too (never done, but counted right if it is).
COUNTED = ("tenant", *V4.COUNTED)


def _tenant_column() -> sa.Column[str]:
    return sa.Column("tenant", sa.String(length=64), server_default=DEFAULT, nullable=False)


# -- the rollup triggers, per tenant ----------------------------------------------------------------------
def _sqlite_counts(row: str, sign: str) -> str:
    return V4._sqlite_counts(row, sign).replace("SELECT '', ", f"SELECT {row}.tenant, ")


def _sqlite_histogram(row: str, sign: str) -> str:
    return V4._sqlite_histogram(row, sign).replace("SELECT '', ", f"SELECT {row}.tenant, ")


def _sqlite_changed() -> str:
    return f"OLD.tenant IS NOT NEW.tenant OR {V4._sqlite_changed()}"


SQLITE_COUNT_TRIGGERS = [
    "CREATE TRIGGER interactions_count_insert AFTER INSERT ON interactions BEGIN "
    f"{_sqlite_counts('NEW', '+')}{_sqlite_histogram('NEW', '+')}END",
    "CREATE TRIGGER interactions_count_delete AFTER DELETE ON interactions BEGIN "
    f"{_sqlite_counts('OLD', '-')}{_sqlite_histogram('OLD', '-')}END",
    f"CREATE TRIGGER interactions_count_update AFTER UPDATE OF {', '.join(COUNTED)} ON interactions "
    f"WHEN {_sqlite_changed()} BEGIN {_sqlite_counts('OLD', '-')}{_sqlite_histogram('OLD', '-')}"
    f"{_sqlite_counts('NEW', '+')}{_sqlite_histogram('NEW', '+')}END",
]
SQLITE_COUNT_TRIGGERS_V4 = V4.SQLITE[:3]
SQLITE_DROP_COUNT_TRIGGERS = [
    "DROP TRIGGER IF EXISTS interactions_count_update",
    "DROP TRIGGER IF EXISTS interactions_count_delete",
    "DROP TRIGGER IF EXISTS interactions_count_insert",
]

POSTGRES_FUNCTION = V4.POSTGRES_FUNCTION.replace("VALUES ('', g, s", "VALUES (r.tenant, g, s")
assert POSTGRES_FUNCTION.count("r.tenant") == 2, "0004's rollup function changed shape"
_PG_CHANGED = f"OLD.tenant IS DISTINCT FROM NEW.tenant OR {V4._PG_CHANGED}"
POSTGRES_UPDATE_TRIGGER = (
    f"CREATE TRIGGER interactions_count_update AFTER UPDATE OF {', '.join(COUNTED)} ON interactions "
    f"FOR EACH ROW WHEN ({_PG_CHANGED}) EXECUTE FUNCTION st_mcp_interactions_counted()"
)
POSTGRES_UPDATE_TRIGGER_V4 = V4.POSTGRES[3]
assert POSTGRES_UPDATE_TRIGGER_V4.startswith("CREATE TRIGGER interactions_count_update")
# PostgreSQL's search index leads with the tenant too (btree_gin lets a GIN index hold the plain column): a
# search is then one index scan for the tenant's matches, where the trigram index alone would leave the
# planner choosing between it and a walk of the tenant's whole range in one of the indexes above.
POSTGRES_SEARCH_INDEX = (
    "CREATE INDEX ix_interactions_search ON interactions "
    f"USING gin (tenant, ({V4.PG_SEARCH_DOCUMENT}) gin_trgm_ops)"
)
POSTGRES_SEARCH_INDEX_V4 = V4.POSTGRES[5]
assert POSTGRES_SEARCH_INDEX_V4.startswith("CREATE INDEX ix_interactions_search")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _rekey(table: str, key: list[str], *, tenant: bool) -> None:
    """Make the primary key (tenant, *key) — or back to ``key`` — adding or dropping the column."""
    columns = ["tenant", *key] if tenant else key
    if _postgres():  # ALTER TABLE in place
        if tenant:
            op.add_column(table, _tenant_column())
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, columns)
        if not tenant:
            op.drop_column(table, "tenant")
        return
    # SQLite: copy the table with the new key (its rows keep their values; the column fills with 'default').
    # The copy's key column still says primary_key=True by itself: SQLAlchemy warns, and takes the new key.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*primary_key=True, not matching", category=SAWarning)
        with op.batch_alter_table(table, recreate="always") as batch:
            if tenant:
                batch.add_column(_tenant_column())
            else:
                batch.drop_column("tenant")
            batch.create_primary_key(f"{table}_pkey", columns)


def upgrade() -> None:
    postgres = _postgres()
    for name, table, _columns in INDEXES:
        # IF EXISTS: a store adopted by the baseline may lack an index an older version did not make.
        op.drop_index(name, table_name=table, if_exists=True)
    for table, key in REKEYED.items():
        _rekey(table, key, tenant=True)
    for table in ADDED:
        op.add_column(table, _tenant_column())
    for name, table, columns in INDEXES:
        op.create_index(name, table, ["tenant", *columns])
    for table in COUNTER_TABLES:
        op.execute(
            sa.text(f"UPDATE {table} SET tenant = :tenant WHERE tenant = ''").bindparams(tenant=DEFAULT)
        )
    if postgres:
        op.execute(POSTGRES_FUNCTION)  # CREATE OR REPLACE: the insert/delete trigger calls it as before
        op.execute("DROP TRIGGER IF EXISTS interactions_count_update ON interactions")
        op.execute(POSTGRES_UPDATE_TRIGGER)
        # btree_gin, like pg_trgm, is a trusted extension (PostgreSQL 13+).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        op.execute("DROP INDEX IF EXISTS ix_interactions_search")
        op.execute(POSTGRES_SEARCH_INDEX)
    else:
        for statement in SQLITE_DROP_COUNT_TRIGGERS + SQLITE_COUNT_TRIGGERS:
            op.execute(statement)


def _refuse_other_tenants() -> None:
    bind = op.get_bind()
    for table in [*REKEYED, *ADDED]:
        found = bind.execute(
            sa.text(f"SELECT tenant FROM {table} WHERE tenant NOT IN ('', :tenant) LIMIT 1"),
            {"tenant": DEFAULT},
        ).first()
        if found is not None:
            raise RuntimeError(
                f"cannot downgrade below 0007: {table} holds rows of tenant '{found[0]}', which the older "
                "schema would merge with the default tenant's"
            )


def downgrade() -> None:
    postgres = _postgres()
    _refuse_other_tenants()
    if postgres:
        op.execute("DROP INDEX IF EXISTS ix_interactions_search")
        op.execute(POSTGRES_SEARCH_INDEX_V4)
        op.execute("DROP TRIGGER IF EXISTS interactions_count_update ON interactions")
        op.execute(V4.POSTGRES_FUNCTION)
    else:
        for statement in SQLITE_DROP_COUNT_TRIGGERS:
            op.execute(statement)
    for table in COUNTER_TABLES:
        # Other tenants' rollup rows are all zeros once their interactions are gone: dropped with them.
        op.execute(sa.text(f"DELETE FROM {table} WHERE tenant <> :tenant").bindparams(tenant=DEFAULT))
        op.execute(
            sa.text(f"UPDATE {table} SET tenant = '' WHERE tenant = :tenant").bindparams(tenant=DEFAULT)
        )
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    for table in ADDED:
        if postgres:
            op.drop_column(table, "tenant")
        else:
            # SQLite >= 3.35 drops a column in place (no copy: rowids and triggers stay).
            op.execute(f"ALTER TABLE {table} DROP COLUMN tenant")
    for table, key in REKEYED.items():
        _rekey(table, key, tenant=False)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    if postgres:
        op.execute(POSTGRES_UPDATE_TRIGGER_V4)
    else:
        for statement in SQLITE_COUNT_TRIGGERS_V4:
            op.execute(statement)
