"""Named instants shared by every process on one database: where the leads poller got to before it
followed the export feed (read once, on the upgrade), and the real moment a demo clock (ST_MCP_CLOCK) was
first started."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import watermarks
from st_mcp.store.tenancy import DEFAULT_TENANT
from st_mcp.store.times import as_utc, aware


class Watermarks:
    def __init__(self, engine: AsyncEngine, *, tenant: str = DEFAULT_TENANT) -> None:
        self._engine = engine
        self.tenant = tenant

    async def get(self, name: str) -> datetime | None:
        async with self._engine.connect() as conn:
            query = select(watermarks.c.value).where(
                watermarks.c.tenant == self.tenant, watermarks.c.name == name
            )
            found = (await conn.execute(query)).scalar()
        return aware(found) if found is not None else None

    async def first(self, name: str, value: datetime) -> datetime:
        """The value stored under ``name``, storing ``value`` if there is none (the first writer wins)."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(watermarks).values(tenant=self.tenant, name=name, value=as_utc(value))
                )
            return value
        except IntegrityError:
            found = await self.get(name)
            assert found is not None
            return found

    async def advance(self, name: str, value: datetime) -> None:
        """Move the mark forward (never back: a slower process must not undo a faster one's progress)."""
        if await self.first(name, value) == value:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                update(watermarks)
                .where(
                    watermarks.c.tenant == self.tenant,
                    watermarks.c.name == name,
                    watermarks.c.value < as_utc(value),
                )
                .values(value=as_utc(value))
            )
