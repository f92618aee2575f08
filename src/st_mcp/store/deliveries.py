"""Delivery rows after the reservation: the gateway's answer, then a provider's later word (a status
callback) on a text we sent.

The row itself is written with its message as ``pending`` (``InteractionRecords.add_message``, inside the
lead's serialized section); here it only moves on: ``settle`` with what the gateway answered (sent,
``failed`` — it never left — or ``unknown`` when the answer was lost), ``advance`` with a callback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.receipts import Receipt, take_receipt
from st_mcp.store.schema import deliveries, interactions, messages
from st_mcp.store.tenancy import DEFAULT_TENANT
from st_mcp.store.transaction import writing

PENDING = "pending"  # reserved and cleared by the gate; the gateway has not answered yet
UNKNOWN = "unknown"  # the gateway's answer was lost: the text may have left (it counts as a touch)


@dataclass(frozen=True, slots=True)
class TrackedDelivery:
    """The text a report was about, and whether the report moved its delivery row."""

    message_id: str
    interaction_id: str
    phone: str | None  # the interaction's phone: who the text went to
    advanced: bool  # False: the report was not ahead of what the row already said


class DeliveryRecords:
    def __init__(self, engine: AsyncEngine, *, tenant: str = DEFAULT_TENANT) -> None:
        self._engine = engine
        self.tenant = tenant

    async def settle(
        self,
        message_id: str,
        status: str,
        *,
        provider_message_id: str | None = None,
        error_code: str | None = None,
    ) -> None:
        """The gateway's answer to a reserved text. Unconditional on the interaction: a text that left is
        in the thread whatever happened to its conversation meanwhile. Only a row still ``pending`` moves
        (a status callback may have beaten the gateway's own answer here)."""
        values: dict[str, str | None] = {"status": status, "error_code": error_code}
        if provider_message_id is not None:
            values["provider_message_id"] = provider_message_id
        async with writing(self._engine) as conn:
            await conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.tenant == self.tenant,
                    deliveries.c.message_id == message_id,
                    deliveries.c.status == PENDING,
                )
                .values(**values)
            )

    async def advance(
        self,
        gateway: str,
        provider_message_id: str,
        status: str,
        error_code: str | None,
        *,
        over: Sequence[str],
        message_id: str | None = None,
        receipt: Receipt | None = None,
        at: datetime | None = None,
    ) -> TrackedDelivery | None:
        """Set ``status`` (and ``error_code``) if the row's status is one of ``over``; None if no text of
        ours has this provider id (or our ``message_id``, which a callback URL carries so a text whose
        send answer was lost is still found). The check is in the UPDATE itself, so two callbacks racing
        cannot move a row backwards; ``receipt`` makes a replayed callback change nothing
        (``AlreadyReceived``)."""
        match = deliveries.c.provider_message_id == provider_message_id
        if message_id is not None:
            match = or_(match, deliveries.c.message_id == message_id)
        found = (
            select(deliveries.c.message_id, messages.c.interaction_id, interactions.c.phone)
            .join(messages, messages.c.id == deliveries.c.message_id)
            .join(interactions, interactions.c.id == messages.c.interaction_id)
            .where(
                deliveries.c.tenant == self.tenant,
                messages.c.tenant == self.tenant,
                interactions.c.tenant == self.tenant,
                deliveries.c.gateway == gateway,
                match,
            )
        )
        async with writing(self._engine) as conn:
            row = (await conn.execute(found)).mappings().first()
            if row is None:
                return None
            if receipt is not None:
                await take_receipt(conn, receipt, at or datetime.now(UTC))
            advanced = False
            if over:  # nothing may be replaced by a status we cannot place: it is never written
                moved = await conn.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.tenant == self.tenant,
                        deliveries.c.message_id == row["message_id"],
                        deliveries.c.status.in_(list(over)),
                    )
                    .values(status=status, error_code=error_code, provider_message_id=provider_message_id)
                )
                advanced = moved.rowcount == 1
        return TrackedDelivery(row["message_id"], row["interaction_id"], row["phone"], advanced)
