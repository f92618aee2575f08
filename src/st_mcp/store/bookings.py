"""Booking idempotency records: written "pending" before ServiceTitan is asked, "booked" after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import bookings
from st_mcp.store.tenancy import DEFAULT_TENANT


@dataclass(frozen=True, slots=True)
class BookingRecord:
    idempotency_key: str
    status: str
    request_fingerprint: str
    customer_id: int
    location_id: int
    job_type_id: int
    business_unit_id: int
    window_start: datetime
    window_end: datetime
    interaction_id: str | None
    job_id: int | None
    job_number: str | None
    appointment_id: int | None


class BookingRecords:
    def __init__(self, engine: AsyncEngine, *, tenant: str = DEFAULT_TENANT) -> None:
        self._engine = engine
        self.tenant = tenant

    def _mine(self, key: str) -> ColumnElement[bool]:
        return (bookings.c.tenant == self.tenant) & (bookings.c.idempotency_key == key)

    async def get(self, key: str) -> BookingRecord | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(bookings).where(self._mine(key)))).mappings().first()
        if row is None:
            return None
        fields = BookingRecord.__dataclass_fields__
        return BookingRecord(**{name: _aware(row[name]) for name in fields})

    async def start(self, record: BookingRecord, principal: str | None) -> bool:
        """Write the pending record; False when the key already exists."""
        now = datetime.now(UTC)
        values = _as_dict(record)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(bookings).values(
                        **values, tenant=self.tenant, principal=principal, created_at=now, updated_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    async def complete(self, key: str, *, job_id: int, job_number: str, appointment_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(bookings)
                .where(self._mine(key))
                .values(
                    status="booked",
                    job_id=job_id,
                    job_number=job_number,
                    appointment_id=appointment_id,
                    updated_at=datetime.now(UTC),
                )
            )

    async def pending_in_window(self, business_unit_id: int, window_start: datetime) -> list[BookingRecord]:
        """Bookings of this window whose create may have reached ServiceTitan (any key): what must be
        settled before anything else books the window."""
        query = select(bookings).where(
            bookings.c.tenant == self.tenant,
            bookings.c.status == "pending",
            bookings.c.business_unit_id == business_unit_id,
            bookings.c.window_start == window_start,
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        fields = BookingRecord.__dataclass_fields__
        return [BookingRecord(**{name: _aware(row[name]) for name in fields}) for row in rows]

    async def abandon(self, key: str) -> None:
        """Remove a pending record whose ServiceTitan call certainly did not create a job."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(bookings).where(self._mine(key), bookings.c.status == "pending"))


def _as_dict(record: BookingRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in BookingRecord.__dataclass_fields__}


def _aware(value: object) -> object:
    # SQLite hands datetimes back naive; everything stored here is UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
