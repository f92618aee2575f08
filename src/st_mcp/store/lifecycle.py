"""The job-events watcher's memory: each export feed's continuation token (the leads poller keeps its
feed's here too), and each job event seen once with the text it asks for (pending → sending → sent |
expired | skipped; a held text goes back to pending)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import export_tokens, job_events
from st_mcp.store.times import as_utc, aware
from st_mcp.store.transaction import reading, writing

PENDING, SENT, EXPIRED, SKIPPED = "pending", "sent", "expired", "skipped"
# Claimed by a watcher that is handing the text to the gate; a row still "sending" at the next pass was cut
# off there (its replica died), and the conversation's thread says whether the text left.
SENDING = "sending"


@dataclass(slots=True)
class JobEvent:
    tenant: str
    job_id: int
    appointment_id: int
    event: str
    interaction_id: str | None
    seen_at: datetime
    text_kind: str | None = None
    text_status: str | None = None
    due_at: datetime | None = None
    detail: str | None = None


class LifecycleRecords:
    def __init__(self, engine: AsyncEngine, tenant: str) -> None:
        self._engine = engine
        self.tenant = tenant

    # ------------------------------------------------------------ tokens
    async def token(self, feed: str) -> str | None:
        query = select(export_tokens.c.token).where(
            export_tokens.c.tenant == self.tenant, export_tokens.c.feed == feed
        )
        async with reading(self._engine) as conn:
            return (await conn.execute(query)).scalar()

    async def place(self, feed: str) -> tuple[str, datetime] | None:
        """The feed's kept token and when it was saved."""
        query = select(export_tokens.c.token, export_tokens.c.updated_at).where(
            export_tokens.c.tenant == self.tenant, export_tokens.c.feed == feed
        )
        async with reading(self._engine) as conn:
            row = (await conn.execute(query)).first()
        return (row[0], aware(row[1])) if row else None

    async def save_token(self, feed: str, token: str, at: datetime) -> None:
        async with writing(self._engine) as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            statement = insert(export_tokens).values(
                tenant=self.tenant, feed=feed, token=token, updated_at=as_utc(at)
            )
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["tenant", "feed"], set_={"token": token, "updated_at": as_utc(at)}
                )
            )

    # ------------------------------------------------------------ events
    async def add(self, event: JobEvent) -> bool:
        """Record the event; False (nothing written) when it was seen before — by any process."""
        values = {f.name: getattr(event, f.name) for f in fields(event)}
        values["seen_at"] = as_utc(event.seen_at)
        values["due_at"] = as_utc(event.due_at) if event.due_at else None
        async with writing(self._engine) as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            done = await conn.execute(insert(job_events).values(**values).on_conflict_do_nothing())
            return bool(done.rowcount == 1)

    async def seen(self, job_id: int, appointment_id: int, event: str) -> bool:
        query = select(job_events.c.event).where(self._key(job_id, appointment_id, event))
        async with reading(self._engine) as conn:
            return (await conn.execute(query)).first() is not None

    async def due(self, now: datetime) -> list[JobEvent]:
        query = (
            select(job_events)
            .where(
                job_events.c.tenant == self.tenant,
                job_events.c.text_status.in_((PENDING, SENDING)),
                job_events.c.due_at <= as_utc(now),
            )
            .order_by(job_events.c.due_at)
        )
        async with reading(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_event(row) for row in rows]

    async def for_job(self, job_id: int) -> list[JobEvent]:
        query = select(job_events).where(job_events.c.tenant == self.tenant, job_events.c.job_id == job_id)
        async with reading(self._engine) as conn:
            rows = (await conn.execute(query.order_by(job_events.c.seen_at))).mappings().all()
        return [_event(row) for row in rows]

    async def settle(
        self, event: JobEvent, status: str, *, due_at: datetime | None = None, detail: str | None = None
    ) -> bool:
        """Move the text on from the status the event was read with (two watchers never both move it)."""
        values: dict[str, Any] = {"text_status": status, "due_at": as_utc(due_at) if due_at else event.due_at}
        if detail is not None:
            values["detail"] = detail
        condition = and_(
            self._key(event.job_id, event.appointment_id, event.event),
            job_events.c.text_status == (event.text_status or PENDING),
        )
        async with writing(self._engine) as conn:
            done = await conn.execute(update(job_events).where(condition).values(**values))
        if done.rowcount != 1:
            return False
        event.text_status = status
        return True

    def _key(self, job_id: int, appointment_id: int, event: str) -> Any:
        return and_(
            job_events.c.tenant == self.tenant,
            job_events.c.job_id == job_id,
            job_events.c.appointment_id == appointment_id,
            job_events.c.event == event,
        )


def _event(row: Any) -> JobEvent:
    values = dict(row)
    values["seen_at"] = aware(values["seen_at"])
    values["due_at"] = aware(values["due_at"]) if values["due_at"] else None
    return JobEvent(**values)
