"""Persistence (SQLAlchemy Core): the system of record for what ServiceTitan cannot hold for us."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.bookings import BookingRecord, BookingRecords
from st_mcp.store.engine import default_database_url, open_engine
from st_mcp.store.escalations import EscalationRecord, EscalationRecords
from st_mcp.store.interactions import InteractionRecords


@dataclass(slots=True)
class Store:
    engine: AsyncEngine
    bookings: BookingRecords
    escalations: EscalationRecords
    interactions: InteractionRecords

    @classmethod
    async def open(cls, url: str | None = None) -> Store:
        engine = await open_engine(url)
        return cls(engine, BookingRecords(engine), EscalationRecords(engine), InteractionRecords(engine))

    async def close(self) -> None:
        await self.engine.dispose()


__all__ = [
    "BookingRecord",
    "BookingRecords",
    "EscalationRecord",
    "EscalationRecords",
    "InteractionRecords",
    "Store",
    "default_database_url",
    "open_engine",
]
