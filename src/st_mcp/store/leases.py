"""Named leases in the database: a mutex that works across processes and replicas.

``async with lease(engine, "slot:…"):`` waits until it holds the name. A lease expires ``ttl`` seconds
after it was last renewed, so a crashed holder cannot block a window forever — and a live holder renews
it every ``ttl / 3`` seconds for as long as it holds it, so a slow upstream call (a create retried after
a 429 with a long Retry-After) can never outlast it and let another process in.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
from sqlalchemy import ColumnElement, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import leases
from st_mcp.store.tenancy import DEFAULT_TENANT

log = logging.getLogger("st_mcp.store")


class LeaseTimeout(Exception):
    pass


@contextlib.asynccontextmanager
async def lease(
    engine: AsyncEngine,
    name: str,
    *,
    tenant: str = DEFAULT_TENANT,
    ttl: float = 30.0,
    wait: float = 20.0,
    poll: float = 0.02,
) -> AsyncIterator[None]:
    """Hold ``tenant``'s lease ``name`` (another tenant's lease of the same name is another lease)."""
    holder = uuid.uuid4().hex
    mine = (leases.c.tenant == tenant) & (leases.c.name == name)
    with anyio.move_on_after(wait) as scope:
        while True:
            if await _try_take(engine, tenant, name, holder, ttl):
                break
            await anyio.sleep(poll)
    if scope.cancelled_caught:
        raise LeaseTimeout(f"{name} stayed busy for {wait:.0f} s")
    try:
        async with anyio.create_task_group() as renewing:
            renewing.start_soon(_renew, engine, mine, name, holder, ttl)
            try:
                yield
            finally:
                renewing.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The renewal never raises, so the group holds only the holder's own error: raise it as itself.
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
    finally:
        with anyio.CancelScope(shield=True):
            async with engine.begin() as conn:
                await conn.execute(delete(leases).where(mine, leases.c.holder == holder))


async def _renew(engine: AsyncEngine, mine: ColumnElement[bool], name: str, holder: str, ttl: float) -> None:
    """Push the lease's expiry forward while its holder works; a failed renewal is retried next round."""
    while True:
        await anyio.sleep(ttl / 3)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    update(leases)
                    .where(mine, leases.c.holder == holder)
                    .values(expires_at=datetime.now(UTC) + timedelta(seconds=ttl))
                )
        except Exception:
            log.warning("lease %s: renewal failed; retrying", name, exc_info=True)


async def _try_take(engine: AsyncEngine, tenant: str, name: str, holder: str, ttl: float) -> bool:
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            expired = (leases.c.tenant == tenant) & (leases.c.name == name) & (leases.c.expires_at < now)
            await conn.execute(delete(leases).where(expired))
            expires = now + timedelta(seconds=ttl)
            await conn.execute(
                insert(leases).values(tenant=tenant, name=name, holder=holder, expires_at=expires)
            )
    except IntegrityError:
        return False
    return True
