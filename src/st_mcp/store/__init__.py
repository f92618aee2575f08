"""Persistence (SQLAlchemy Core): the system of record for what ServiceTitan cannot hold for us."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.bookings import BookingRecord, BookingRecords
from st_mcp.store.engine import default_database_url, open_engine
from st_mcp.store.escalations import EscalationRecord, EscalationRecords
from st_mcp.store.interactions import InteractionRecords
from st_mcp.store.tenancy import DEFAULT_TENANT


@dataclass(slots=True)
class Store:
    """The engine and one tenant's records. Whatever else is built on ``engine`` takes ``tenant`` too, so
    every reader and writer of a store sees the same tenant's rows."""

    engine: AsyncEngine
    bookings: BookingRecords
    escalations: EscalationRecords
    interactions: InteractionRecords
    tenant: str = DEFAULT_TENANT

    @classmethod
    async def open(cls, url: str | None = None, *, tenant: str = DEFAULT_TENANT) -> Store:
        engine = await open_engine(url)
        return cls.on(engine, tenant)

    @classmethod
    def on(cls, engine: AsyncEngine, tenant: str = DEFAULT_TENANT) -> Store:
        """``tenant``'s store on an engine already open (and migrated)."""
        return cls(
            engine,
            BookingRecords(engine, tenant=tenant),
            EscalationRecords(engine, tenant=tenant),
            InteractionRecords(engine, tenant=tenant),
            tenant,
        )

    def scoped(self, tenant: str) -> Store:
        """Another tenant's store on the same engine (one pool, one database). Closing either closes the
        engine: close the one that opened it."""
        return Store.on(self.engine, tenant)

    async def close(self) -> None:
        await self.engine.dispose()


__all__ = [
    "DEFAULT_TENANT",
    "BookingRecord",
    "BookingRecords",
    "EscalationRecord",
    "EscalationRecords",
    "InteractionRecords",
    "Store",
    "default_database_url",
    "open_engine",
]
