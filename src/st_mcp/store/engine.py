"""Opening the store: engine, SQLite pragmas, schema creation at start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import event, insert, select
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
        current = (await conn.execute(select(schema_version.c.version))).scalars().all()
        if SCHEMA_VERSION not in current:
            await conn.execute(
                insert(schema_version).values(version=SCHEMA_VERSION, applied_at=datetime.now(UTC))
            )
    return engine
