"""Serialized sections: one writer at a time for a key (a lead's phone), across processes and replicas.

``async with serialized(engine, key):`` opens a transaction that holds the key's lock — a transaction-scoped
advisory lock on PostgreSQL, the database's write lock (``BEGIN IMMEDIATE``) on SQLite — and makes it the
connection every store read and write of this task uses (``reading`` / ``writing``) until it commits. So a
decision read inside it (has this phone opted out? how many touches today?) and the rows written on it
(the touch it allows) are one atomic step: no other process can decide for the same key in between.

Keep these sections to the database: no network calls inside, and no store access from other tasks or
engines (on SQLite a second connection that writes would wait for this one's lock).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextvars import ContextVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from st_mcp.store.tenancy import DEFAULT_TENANT

_CURRENT: ContextVar[AsyncConnection | None] = ContextVar("st_mcp_serialized_connection", default=None)


def _pg_key(key: str) -> int:
    """A stable signed 64-bit advisory lock key for ``key`` (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def advisory_key(name: str, tenant: str) -> int:
    """The PostgreSQL advisory lock key of ``tenant``'s lock ``name`` (e.g. its audit chain's head)."""
    return _pg_key(tenant_key(tenant, name))


def tenant_key(tenant: str, key: str) -> str:
    """A lock's name within its tenant: two tenants' "lead:+1720…" are two locks, never one. (The unit
    separator cannot occur in a tenant's name, so no tenant's key can spell another's.)"""
    return f"{tenant}\x1f{key}"


async def _lock(conn: AsyncConnection, key: str) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(_pg_key(key))))


def _current(engine: AsyncEngine) -> AsyncConnection | None:
    conn = _CURRENT.get()
    return conn if conn is not None and conn.engine.sync_engine is engine.sync_engine else None


@contextlib.asynccontextmanager
async def serialized(
    engine: AsyncEngine, *keys: str, tenant: str = DEFAULT_TENANT
) -> AsyncIterator[AsyncConnection]:
    """Hold the locks of ``keys`` (``tenant``'s) for one transaction, committed when the block ends without
    error. Re-entrant: inside a serialized section of the same engine, the extra keys are locked on its
    connection and the outer section commits. (On SQLite the lock is the database's one write lock, which
    every tenant shares; on PostgreSQL each tenant's keys are their own.)"""
    keys = tuple(tenant_key(tenant, key) for key in keys)
    outer = _current(engine)
    if outer is not None:
        for key in sorted(set(keys)):
            await _lock(outer, key)
        yield outer
        return
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        for key in sorted(set(keys)):  # one order everywhere, so two sections cannot deadlock
            await _lock(conn, key)
        token = _CURRENT.set(conn)
        try:
            yield conn
        except BaseException:
            await conn.rollback()
            raise
        finally:
            _CURRENT.reset(token)
        await conn.commit()


@contextlib.asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection to read with: the serialized section's, when this task is in one."""
    current = _current(engine)
    if current is not None:
        yield current
        return
    async with engine.connect() as conn:
        yield conn


@contextlib.asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction to write in: the serialized section's (it commits), or a new one committed here."""
    current = _current(engine)
    if current is not None:
        yield current
        return
    async with engine.begin() as conn:
        yield conn
