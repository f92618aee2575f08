"""Named leases in the database: a mutex that works across processes and replicas.

``async with lease(engine, "slot:…"):`` waits until it holds the name. A lease expires after
``ttl`` seconds so a crashed holder cannot block a window forever; holders finish well within it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import leases


class LeaseTimeout(Exception):
    pass


@contextlib.asynccontextmanager
async def lease(
    engine: AsyncEngine, name: str, *, ttl: float = 30.0, wait: float = 20.0, poll: float = 0.02
) -> AsyncIterator[None]:
    holder = uuid.uuid4().hex
    with anyio.move_on_after(wait) as scope:
        while True:
            if await _try_take(engine, name, holder, ttl):
                break
            await anyio.sleep(poll)
    if scope.cancelled_caught:
        raise LeaseTimeout(f"{name} stayed busy for {wait:.0f} s")
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            async with engine.begin() as conn:
                await conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


async def _try_take(engine: AsyncEngine, name: str, holder: str, ttl: float) -> bool:
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(leases).where(leases.c.name == name, leases.c.expires_at < now))
            await conn.execute(
                insert(leases).values(name=name, holder=holder, expires_at=now + timedelta(seconds=ttl))
            )
    except IntegrityError:
        return False
    return True
