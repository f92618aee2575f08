"""Escalations: why the agent handed a conversation to a person, and where it shows in ServiceTitan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import escalations
from st_mcp.store.tenancy import DEFAULT_TENANT


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    id: str
    interaction_id: str | None
    lead_id: int | None
    phone: str | None
    reason: str
    note: str
    servicetitan_task_id: int | None
    servicetitan_lead_follow_up: str | None
    principal: str | None


class EscalationRecords:
    def __init__(self, engine: AsyncEngine, *, tenant: str = DEFAULT_TENANT) -> None:
        self._engine = engine
        self.tenant = tenant

    async def add(self, record: EscalationRecord) -> datetime:
        created = datetime.now(UTC)
        values = {name: getattr(record, name) for name in EscalationRecord.__dataclass_fields__}
        async with self._engine.begin() as conn:
            await conn.execute(insert(escalations).values(**values, tenant=self.tenant, created_at=created))
        return created
