"""Background work that repeats on an interval: the leads poller, the job-events watcher, the revenue sweeps.

One loop for all of them, so each behaves the same: what a pass did is logged, a failed pass (a ServiceTitan
outage, a database hiccup) is logged and tried again at the next interval — it never stops the server.

With a ``Leader`` a pass runs only while this process holds the named lease in the shared database, so
replicas behind one load balancer do the work once: the others find it held and skip that pass, and when
the holder dies its lease expires and the next replica to try takes over within one interval.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.leases import LeaseTimeout, lease
from st_mcp.store.tenancy import DEFAULT_TENANT

log = logging.getLogger(__name__)
LEADER_TTL_SECONDS = 60.0  # a dead holder's pass is taken over after this long at most
LEADER_TRY_SECONDS = 0.5  # how long a pass tries for the lease before leaving it to its holder


@dataclass(frozen=True, slots=True)
class Leader:
    """The lease a pass must hold: one name per job and tenant, in the store every replica shares."""

    engine: AsyncEngine
    name: str
    ttl: float = LEADER_TTL_SECONDS  # [leader_ttl_seconds]: how long a dead holder keeps it
    tenant: str = DEFAULT_TENANT  # the store's tenant: its lease of ``name`` is its own


async def repeat(
    what: str,
    interval_seconds: float,
    once: Callable[[], Awaitable[str | None]],
    *,
    leader: Leader | None = None,
) -> None:
    """Run ``once`` every ``interval_seconds`` until cancelled; log what it says it did."""
    while True:
        try:
            if said := await _pass(once, leader):
                log.info("%s: %s", what, said)
        except LeaseTimeout:
            log.debug("%s: another replica holds %s; skipped", what, leader.name if leader else "")
        except Exception:  # a ServiceTitan outage must not stop the server
            log.exception("%s failed; retrying in %d s", what, interval_seconds)
        await anyio.sleep(interval_seconds)


async def _pass(once: Callable[[], Awaitable[str | None]], leader: Leader | None) -> str | None:
    if leader is None:
        return await once()
    async with lease(
        leader.engine, leader.name, tenant=leader.tenant, ttl=leader.ttl, wait=LEADER_TRY_SECONDS
    ):
        return await once()
