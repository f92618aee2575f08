"""The suppression list: phones that opted out, across interactions and channels (SMS and voice).

Writes happen inside the transaction that records the lead's message or call (``apply_opt_change``),
so an opt-out is never recorded without its suppression, nor the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from st_mcp.store.schema import suppressions
from st_mcp.store.tenancy import DEFAULT_TENANT
from st_mcp.store.times import as_utc, aware
from st_mcp.store.transaction import reading, writing


@dataclass(frozen=True, slots=True)
class Suppression:
    phone: str
    opted_out_at: datetime
    interaction_id: str | None
    channel: str
    reason: str
    confirmation_sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class OptChange:
    """An opt-out or opt-in to write together with the message or call that carried it."""

    kind: Literal["out", "in"]
    phone: str
    at: datetime
    interaction_id: str
    channel: str
    reason: str


async def apply_opt_change(conn: AsyncConnection, change: OptChange, *, tenant: str = DEFAULT_TENANT) -> None:
    """Write ``change`` to ``tenant``'s list (a STOP to one business does not opt out of another's)."""
    if change.kind == "in":
        await conn.execute(
            update(suppressions)
            .where(
                suppressions.c.tenant == tenant,
                suppressions.c.phone == change.phone,
                suppressions.c.active.is_(True),
            )
            .values(active=False, opted_in_at=change.at)
        )
        return
    values = {
        "tenant": tenant,
        "phone": change.phone,
        "active": True,
        "opted_out_at": change.at,
        "interaction_id": change.interaction_id,
        "channel": change.channel,
        "reason": change.reason[:500],
        "confirmation_sent_at": None,
        "opted_in_at": None,
    }
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(suppressions).values(**values)
    # A second STOP while already suppressed keeps the first opt-out (and its confirmation state).
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[suppressions.c.tenant, suppressions.c.phone],
            set_=values,
            where=suppressions.c.active.is_(False),
        )
    )


class SuppressionList:
    def __init__(self, engine: AsyncEngine, *, tenant: str = DEFAULT_TENANT) -> None:
        self._engine = engine
        self.tenant = tenant

    async def active(self, phone: str | None) -> Suppression | None:
        if not phone:
            return None
        query = select(suppressions).where(
            suppressions.c.tenant == self.tenant,
            suppressions.c.phone == phone,
            suppressions.c.active.is_(True),
        )
        async with reading(self._engine) as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return Suppression(
            phone=row["phone"],
            opted_out_at=aware(row["opted_out_at"]),
            interaction_id=row["interaction_id"],
            channel=row["channel"],
            reason=row["reason"],
            confirmation_sent_at=aware(row["confirmation_sent_at"]),
        )

    async def active_phones(self, phones: Sequence[str]) -> set[str]:
        """Which of these phones are suppressed now (one query, for a whole queue)."""
        if not phones:
            return set()
        query = select(suppressions.c.phone).where(
            suppressions.c.tenant == self.tenant,
            suppressions.c.phone.in_(list(set(phones))),
            suppressions.c.active.is_(True),
        )
        async with reading(self._engine) as conn:
            return {row[0] for row in await conn.execute(query)}

    async def suppress(self, change: OptChange) -> None:
        """An opt-out learned outside a logged message (a carrier's "unsubscribed" answer)."""
        async with writing(self._engine) as conn:
            await apply_opt_change(conn, change, tenant=self.tenant)

    async def claim_confirmation(self, phone: str, now: datetime, within: timedelta) -> bool:
        """Take the one confirmation an opt-out allows; False if it was used or the 5 minutes passed."""
        statement = (
            update(suppressions)
            .where(
                suppressions.c.tenant == self.tenant,
                suppressions.c.phone == phone,
                suppressions.c.active.is_(True),
                suppressions.c.confirmation_sent_at.is_(None),
                suppressions.c.opted_out_at >= as_utc(now) - within,
            )
            .values(confirmation_sent_at=as_utc(now))
        )
        async with writing(self._engine) as conn:
            return (await conn.execute(statement)).rowcount == 1
