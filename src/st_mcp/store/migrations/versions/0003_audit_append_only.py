"""On PostgreSQL the audit table is append-only: UPDATE, DELETE and TRUNCATE are refused by a trigger.

The hash chain already shows any edit or deletion (``st-mcp audit verify``); this stops them from being
made through the application's own connection at all. A database owner can still disable the trigger —
what ``verify`` and an anchor kept elsewhere are for. SQLite files are guarded by the file system.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION st_mcp_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION st_mcp_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION st_mcp_audit_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update_or_delete ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS st_mcp_audit_append_only()")
