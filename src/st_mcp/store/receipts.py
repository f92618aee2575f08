"""Webhook receipts: what a provider delivered to us once is taken in once.

A receipt is written in the same transaction as the work the request caused (the inbound message, the
delivery status it moved), so a request either did its work and left its receipt, or did nothing and can
be retried; a replay of one that did finds the receipt and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from st_mcp.store.schema import webhook_receipts
from st_mcp.store.times import as_utc

MAX_KEY = 128


@dataclass(frozen=True, slots=True)
class Receipt:
    tenant: str
    source: str  # e.g. "twilio.inbound", "twilio.status"
    key: str  # the provider's id of what it delivered (Twilio's MessageSid, + the status for callbacks)


class AlreadyReceived(Exception):
    """This delivery was taken in before: a replay or a provider's retry. Nothing was changed."""


async def take_receipt(conn: AsyncConnection, receipt: Receipt, at: datetime) -> None:
    """Record the receipt on ``conn`` (inside the caller's transaction), or raise ``AlreadyReceived``."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(webhook_receipts)
        .values(
            tenant=receipt.tenant, source=receipt.source, key=receipt.key[:MAX_KEY], received_at=as_utc(at)
        )
        .on_conflict_do_nothing()
    )
    if (await conn.execute(statement)).rowcount != 1:
        raise AlreadyReceived(f"{receipt.source} {receipt.key[:40]} was already taken in")
