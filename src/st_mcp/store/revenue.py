"""Booking requests (booking-request mode) and records taken in for follow-up — per tenant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import booking_requests, follow_up_claims
from st_mcp.store.times import as_utc, aware


@dataclass(frozen=True, slots=True)
class BookingRequestRecord:
    idempotency_key: str
    status: str  # pending | requested | converted | dismissed
    request_fingerprint: str
    customer_id: int
    location_id: int
    job_type_id: int
    business_unit_id: int
    window_start: datetime
    window_end: datetime
    interaction_id: str | None
    recurring_event_id: int | None = None
    booking_id: int | None = None
    job_id: int | None = None
    job_number: str | None = None
    converted_at: datetime | None = None
    told_at: datetime | None = None


_FIELDS = tuple(f.name for f in fields(BookingRequestRecord))


class BookingRequests:
    def __init__(self, engine: AsyncEngine, tenant: str) -> None:
        self._engine = engine
        self._tenant = tenant

    def _mine(self, key: str) -> ColumnElement[bool]:
        c = booking_requests.c
        return (c.tenant == self._tenant) & (c.idempotency_key == key)

    async def get(self, key: str) -> BookingRequestRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(booking_requests).where(self._mine(key)))).mappings().first()
        return _record(row) if row is not None else None

    async def start(self, record: BookingRequestRecord, principal: str | None, now: datetime) -> bool:
        """Write the pending record; False when the key already exists."""
        values = {name: getattr(record, name) for name in _FIELDS}
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(booking_requests).values(
                        **values, tenant=self._tenant, principal=principal, created_at=now, updated_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    async def requested(self, key: str, booking_id: int, now: datetime) -> None:
        await self._set(key, now, status="requested", booking_id=booking_id)

    async def converted(self, key: str, *, job_id: int, job_number: str, now: datetime) -> None:
        await self._set(key, now, status="converted", job_id=job_id, job_number=job_number, converted_at=now)

    async def dismissed(self, key: str, now: datetime) -> None:
        await self._set(key, now, status="dismissed")

    async def told(self, key: str, now: datetime) -> None:
        await self._set(key, now, told_at=now)

    async def abandon(self, key: str) -> None:
        """Remove a pending record whose create certainly made no booking."""
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(booking_requests).where(self._mine(key), booking_requests.c.status == "pending")
            )

    async def awaiting_conversion(self) -> list[BookingRequestRecord]:
        """Requests not yet seen converted, and converted ones whose lead was not told yet."""
        c = booking_requests.c
        query = select(booking_requests).where(
            c.tenant == self._tenant,
            (c.status == "requested") | ((c.status == "converted") & c.told_at.is_(None)),
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(c.created_at))).mappings().all()
        return [_record(row) for row in rows]

    async def _set(self, key: str, now: datetime, **values: object) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(booking_requests).where(self._mine(key)).values(**values, updated_at=as_utc(now))
            )


# A claim's interaction when its record cannot be taken in (no phone): kept, so it is not retried every pass.
UNUSABLE = "-"
# An unlinked claim older than this was abandoned: a take-in (a few ServiceTitan reads and one insert) never
# takes minutes, so its process died.
ABANDONED_AFTER = timedelta(minutes=15)


class FollowUpClaims:
    """One kind of ServiceTitan record (``estimate``, ``maintenance``) taken in as a follow-up once."""

    def __init__(self, engine: AsyncEngine, tenant: str, kind: str) -> None:
        self._engine = engine
        self._tenant = tenant
        self._kind = kind

    def _mine(self, source_id: int) -> ColumnElement[bool]:
        c = follow_up_claims.c
        return (c.tenant == self._tenant) & (c.kind == self._kind) & (c.source_id == source_id)

    async def claim(self, source_id: int, now: datetime) -> bool:
        """Mark the record taken in; False when it already was (by this or another process).

        A claim still unlinked ``ABANDONED_AFTER`` after it was made lost its process between the claim and
        the take-in (a replica killed mid-sweep): it is given up and made again here, or that record would
        never be followed up. Taking it in again is safe: a conversation the dead process did make is found
        by the phone's dedupe and linked, not duplicated."""
        c = follow_up_claims.c
        abandoned = c.interaction_id.is_(None) & (c.created_at < as_utc(now - ABANDONED_AFTER))
        try:
            async with self._engine.begin() as conn:
                await conn.execute(delete(follow_up_claims).where(self._mine(source_id) & abandoned))
                await conn.execute(
                    insert(follow_up_claims).values(
                        tenant=self._tenant, kind=self._kind, source_id=source_id, created_at=as_utc(now)
                    )
                )
        except IntegrityError:
            return False
        return True

    async def link(self, source_id: int, interaction_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(follow_up_claims).where(self._mine(source_id)).values(interaction_id=interaction_id)
            )

    async def release(self, source_id: int) -> None:
        """Undo a claim whose interaction could not be made, so a later pass tries again."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(follow_up_claims).where(self._mine(source_id)))


def _record(row: Mapping[str, Any]) -> BookingRequestRecord:
    return BookingRequestRecord(**{name: aware(row[name]) for name in _FIELDS})
