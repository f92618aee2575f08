"""Delivery rows after the send: a provider's later word (a status callback) on a text we sent.

The row itself is written with its message (``InteractionRecords.add_message``); here it only moves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import deliveries, interactions, messages


@dataclass(frozen=True, slots=True)
class TrackedDelivery:
    """The text a report was about, and whether the report moved its delivery row."""

    message_id: str
    interaction_id: str
    phone: str | None  # the interaction's phone: who the text went to
    advanced: bool  # False: the report was not ahead of what the row already said


class DeliveryRecords:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def advance(
        self,
        gateway: str,
        provider_message_id: str,
        status: str,
        error_code: str | None,
        *,
        over: Sequence[str],
    ) -> TrackedDelivery | None:
        """Set ``status`` (and ``error_code``) if the row's status is one of ``over``; None if no text of
        ours has this provider id. The check is in the UPDATE itself, so two callbacks racing cannot
        move a row backwards."""
        found = (
            select(deliveries.c.message_id, messages.c.interaction_id, interactions.c.phone)
            .join(messages, messages.c.id == deliveries.c.message_id)
            .join(interactions, interactions.c.id == messages.c.interaction_id)
            .where(deliveries.c.gateway == gateway, deliveries.c.provider_message_id == provider_message_id)
        )
        async with self._engine.begin() as conn:
            row = (await conn.execute(found)).mappings().first()
            if row is None:
                return None
            moved = await conn.execute(
                update(deliveries)
                .where(deliveries.c.message_id == row["message_id"], deliveries.c.status.in_(list(over)))
                .values(status=status, error_code=error_code)
            )
        return TrackedDelivery(row["message_id"], row["interaction_id"], row["phone"], moved.rowcount == 1)
