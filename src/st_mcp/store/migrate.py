"""Schema migrations (Alembic): the store is brought to the newest revision at start and by
``st-mcp db upgrade``.

Every process on one database may start at once (replicas behind a load balancer, an agent and a CSR
process on one SQLite file), so the upgrade runs under a lock that serializes them: a transaction-scoped
advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite. The first one in upgrades; the others find
the store at head and do nothing. DDL is transactional on both engines, so a failed upgrade leaves the
store as it was.

Stores made before migrations existed (by ``create_all``) are adopted by the baseline revision itself,
which creates only the tables that are missing (``versions/0001_baseline.py``).
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from importlib.resources import files

import anyio
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Alembic narrates every step at INFO ("Context impl SQLiteImpl"); a start that finds nothing to do is news
# to nobody, and an upgrade is reported by the caller.
logging.getLogger("alembic").setLevel(logging.WARNING)
# pg_advisory_xact_lock key for "the schema" (any constant unique to this purpose).
_PG_LOCK_KEY = 0x5354_4D43_5343_4845  # "STMCSCHE"


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    before: str | None  # the revision the store was at (None: empty, or made before migrations)
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


_IN_PROCESS = threading.Lock()


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("st_mcp.store") / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def upgrade(engine: AsyncEngine) -> UpgradeResult:
    """Bring the store to the newest revision, serialized with every other process doing the same.

    A store already at head (every start but the first after a release) costs one read. Alembic runs its
    environment through module-level state, so two upgrades in one process (several servers in one
    event loop or thread each) also queue on a process-wide lock, taken without blocking the event loop.
    """
    head = head_revision()
    current = await current_revision(engine)
    if current == head:
        return UpgradeResult(current, head)
    await anyio.to_thread.run_sync(_IN_PROCESS.acquire)
    try:
        async with engine.connect() as conn:
            await _lock(conn)
            result = await conn.run_sync(_upgrade)
            await conn.commit()
    finally:
        _IN_PROCESS.release()
    return result


async def _lock(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
    elif conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


def _upgrade(conn: Connection) -> UpgradeResult:
    before = MigrationContext.configure(conn).get_current_revision()
    command.upgrade(_config(conn), "head")
    after = MigrationContext.configure(conn).get_current_revision()
    assert after is not None
    return UpgradeResult(before, after)
