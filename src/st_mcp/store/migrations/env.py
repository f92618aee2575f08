"""Alembic's entry point for the store's migrations.

Migrations always run on a connection the caller opened and locked (``st_mcp.store.migrate``), never on
one Alembic opens itself, so replicas starting at once queue on the lock instead of racing.
"""

from __future__ import annotations

from alembic import context

from st_mcp.store.schema import managed_by_database, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running the alembic CLI by hand
    raise RuntimeError("run migrations through `st-mcp db upgrade`, which opens and locks the store")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters a table by copying it; batch mode does that for ALTER COLUMN and DROP COLUMN.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=lambda name, kind, _parent: not managed_by_database(name),
)
with context.begin_transaction():
    context.run_migrations()
