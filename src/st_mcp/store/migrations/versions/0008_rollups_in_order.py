"""Rollups lock their rows in one order (PostgreSQL): no deadlock between conversations moving opposite ways.

The rollup trigger of 0004 (per tenant since 0007) moved a conversation out of its old rollup rows and into
its new ones in that order: old day, old month, new day, new month. Two conversations moving opposite ways
at once — one from ``Opt-out`` to ``Active: Hot`` (the lead texted START), another from ``Active: Hot`` to
``Opt-out`` — lock the same two rows crosswise, and PostgreSQL kills one of them as a deadlock: a 500 to
Twilio's inbound webhook, seen in the two-process gate simulation. Now every rollup row a change touches is
locked in one global order — the counts before the speed-to-lead histogram, day before month, then by the
row's key — whichever way the conversation moved, so no two changes ever wait on each other crosswise.

SQLite serializes writers on the database lock and is unchanged.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _revision(filename: str) -> ModuleType:
    # The SQL this replaces is built by the earlier revisions; read from them, not copied.
    path = Path(__file__).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"st_mcp_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


V4 = _revision("0004_counters.py")
V7 = _revision("0007_tenants.py")

_DAY = "(r.received_at AT TIME ZONE 'UTC')::date"
_MONTH = "date_trunc('month', r.received_at AT TIME ZONE 'UTC')::date"
_DELAY = "GREATEST(floor(extract(epoch FROM (r.first_outbound_at - r.received_at))), 0)::bigint"

FUNCTIONS = [
    f"""
CREATE OR REPLACE FUNCTION st_mcp_rollup_start(r interactions, g text) RETURNS date AS $$
    SELECT CASE WHEN g = 'day' THEN {_DAY} ELSE {_MONTH} END
$$ LANGUAGE sql STABLE
""",
    f"""
CREATE OR REPLACE FUNCTION st_mcp_rollup_bucket(r interactions) RETURNS bigint AS $$
    SELECT CASE WHEN r.first_outbound_at IS NULL THEN -1 ELSE {V4._bucket(_DELAY)} END
$$ LANGUAGE sql STABLE
""",
    f"""
CREATE OR REPLACE FUNCTION st_mcp_count_status(r interactions, sign integer, g text) RETURNS void AS $$
BEGIN
    INSERT INTO interaction_counts AS t ({V4.COUNTS_KEY}, conversations, contacted, responded, converted)
    VALUES (r.tenant, g, st_mcp_rollup_start(r, g), r.goal, r.channel, r.type, r.status, sign,
            sign * (r.first_outbound_at IS NOT NULL)::int,
            sign * (r.first_outbound_at IS NOT NULL AND r.inbound_count > 0)::int,
            sign * (r.job_id IS NOT NULL)::int)
    ON CONFLICT ({V4.COUNTS_KEY}) DO UPDATE SET
        conversations = t.conversations + excluded.conversations,
        contacted = t.contacted + excluded.contacted,
        responded = t.responded + excluded.responded,
        converted = t.converted + excluded.converted;
END;
$$ LANGUAGE plpgsql
""",
    f"""
CREATE OR REPLACE FUNCTION st_mcp_count_delay(r interactions, sign integer, g text) RETURNS void AS $$
BEGIN
    IF r.first_outbound_at IS NOT NULL THEN
        INSERT INTO speed_to_lead_counts AS t ({V4.HISTOGRAM_KEY}, interactions)
        VALUES (r.tenant, g, st_mcp_rollup_start(r, g), r.goal, r.channel, st_mcp_rollup_bucket(r), sign)
        ON CONFLICT ({V4.HISTOGRAM_KEY}) DO UPDATE SET interactions = t.interactions + excluded.interactions;
    END IF;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE OR REPLACE FUNCTION st_mcp_interactions_counted() RETURNS trigger AS $$
DECLARE
    g text;
BEGIN
    -- Counts, then the histogram; in each, day before month; in each grain, the smaller key first.
    FOREACH g IN ARRAY ARRAY['day', 'month'] LOOP
        IF TG_OP = 'INSERT' THEN
            PERFORM st_mcp_count_status(NEW, 1, g);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM st_mcp_count_status(OLD, -1, g);
        ELSIF ROW(OLD.tenant, st_mcp_rollup_start(OLD, g), OLD.goal, OLD.channel, OLD.type,
                  OLD.status)
              <= ROW(NEW.tenant, st_mcp_rollup_start(NEW, g), NEW.goal, NEW.channel, NEW.type,
                     NEW.status) THEN
            PERFORM st_mcp_count_status(OLD, -1, g);
            PERFORM st_mcp_count_status(NEW, 1, g);
        ELSE
            PERFORM st_mcp_count_status(NEW, 1, g);
            PERFORM st_mcp_count_status(OLD, -1, g);
        END IF;
    END LOOP;
    FOREACH g IN ARRAY ARRAY['day', 'month'] LOOP
        IF TG_OP = 'INSERT' THEN
            PERFORM st_mcp_count_delay(NEW, 1, g);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM st_mcp_count_delay(OLD, -1, g);
        ELSIF ROW(OLD.tenant, st_mcp_rollup_start(OLD, g), OLD.goal, OLD.channel,
                  st_mcp_rollup_bucket(OLD))
              <= ROW(NEW.tenant, st_mcp_rollup_start(NEW, g), NEW.goal, NEW.channel,
                     st_mcp_rollup_bucket(NEW)) THEN
            PERFORM st_mcp_count_delay(OLD, -1, g);
            PERFORM st_mcp_count_delay(NEW, 1, g);
        ELSE
            PERFORM st_mcp_count_delay(NEW, 1, g);
            PERFORM st_mcp_count_delay(OLD, -1, g);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
""",
]
DROPPED = [
    "DROP FUNCTION IF EXISTS st_mcp_count_delay(interactions, integer, text)",
    "DROP FUNCTION IF EXISTS st_mcp_count_status(interactions, integer, text)",
    "DROP FUNCTION IF EXISTS st_mcp_rollup_bucket(interactions)",
    "DROP FUNCTION IF EXISTS st_mcp_rollup_start(interactions, text)",
]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgres():
        for statement in FUNCTIONS:
            op.execute(statement)


def downgrade() -> None:
    if _postgres():
        op.execute(V4.POSTGRES_TRIGGER_FUNCTION)  # 0004's order, over 0007's per-tenant function
        op.execute(V7.POSTGRES_FUNCTION)
        for statement in DROPPED:
            op.execute(statement)
