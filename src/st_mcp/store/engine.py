"""Opening the store: engine, SQLite pragmas, and the schema brought to the newest migration at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from st_mcp.store.migrate import upgrade


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


def create_engine(url: str | None = None) -> AsyncEngine:
    """The engine alone, schema untouched (``st-mcp db`` reads the revision before upgrading)."""
    engine = create_async_engine(url or default_database_url())
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


async def open_engine(url: str | None = None) -> AsyncEngine:
    """Create the engine and bring the schema to the newest migration (safe for concurrent starts)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return engine
