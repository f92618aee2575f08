"""Opening the store: engine, SQLite pragmas, schema creation (and additive upgrades) at start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Column, Connection, Table, event, insert, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from st_mcp.store.schema import SCHEMA_VERSION, metadata, schema_version


def default_database_url() -> str:
    folder = Path(platformdirs.user_data_dir("st-mcp", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{folder / 'st-mcp.db'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets a CSR process read while an agent process writes; busy_timeout makes concurrent
    # writers (several processes on one file) wait for each other instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def open_engine(url: str | None = None) -> AsyncEngine:
    """Create the engine and make sure the schema exists (idempotent, safe for concurrent starts)."""
    engine = create_async_engine(url or default_database_url())
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(_add_missing_columns)
        current = (await conn.execute(select(schema_version.c.version))).scalars().all()
        if SCHEMA_VERSION not in current:
            await conn.execute(
                insert(schema_version).values(version=SCHEMA_VERSION, applied_at=datetime.now(UTC))
            )
    return engine


def _add_missing_columns(conn: Connection) -> None:
    """``create_all`` makes missing tables, never missing columns: add the columns a newer schema gave an
    existing table. Only nullable columns without a default can be added this way; anything else needs a
    real migration, so it stops the start instead of half-upgrading the store."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                _add_column(conn, table, column)


def _add_column(conn: Connection, table: Table, column: Column[Any]) -> None:
    if not column.nullable or column.default is not None or column.server_default is not None:
        raise RuntimeError(f"{table.name}.{column.name} cannot be added in place; migrate the store first")
    quote = conn.dialect.identifier_preparer.quote
    kind = column.type.compile(dialect=conn.dialect)
    # PostgreSQL skips a column another replica added meanwhile; SQLite has no IF NOT EXISTS here.
    guard = "IF NOT EXISTS " if conn.dialect.name == "postgresql" else ""
    statement = f"ALTER TABLE {quote(table.name)} ADD COLUMN {guard}{quote(column.name)} {kind}"
    try:
        conn.execute(text(statement))
    except OperationalError as exc:
        if "duplicate column" not in str(exc).lower():  # another process on the same file won the race
            raise
