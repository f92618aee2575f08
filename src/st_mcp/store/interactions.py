"""Interactions, their messages, calls and status history. Every write is one committed transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from st_mcp.store.counters import Counters, Filter
from st_mcp.store.receipts import Receipt, take_receipt
from st_mcp.store.schema import booking_requests, calls, deliveries, interactions, messages, status_history
from st_mcp.store.search import search_clause
from st_mcp.store.suppressions import OptChange, apply_opt_change
from st_mcp.store.tenancy import DEFAULT_TENANT
from st_mcp.store.times import as_utc, aware
from st_mcp.store.transaction import reading, writing


@dataclass(frozen=True, slots=True)
class InteractionRow:
    id: str
    goal: str
    channel: str
    type: str
    status: str
    name: str | None
    phone: str | None
    email: str | None
    street: str | None
    city: str | None
    state: str | None
    zip: str | None
    request: str | None
    source: str | None
    campaign_id: int | None
    servicetitan_lead_id: int | None
    customer_id: int | None
    location_id: int | None
    job_id: int | None
    job_number: str | None
    summary: str | None
    outcome: str | None
    status_reason: str | None
    taken_over_by: str | None
    duplicate_of: str | None
    in_service_area: bool | None
    received_at: datetime
    first_outbound_at: datetime | None
    last_inbound_at: datetime | None
    last_activity_at: datetime
    inbound_count: int
    outbound_count: int


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: str
    interaction_id: str
    direction: str
    channel: str
    sender: str
    sender_name: str | None
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    message_id: str
    gateway: str
    provider_message_id: str | None
    status: str
    error_code: str | None = None  # set later, by a status callback that reports a failure


@dataclass(frozen=True, slots=True)
class CallRow:
    id: str
    interaction_id: str
    direction: str
    transcript: str
    recording_url: str | None
    duration_seconds: int
    outcome: str | None
    sender: str
    sender_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryRow:
    interaction_id: str
    from_status: str | None
    to_status: str
    reason: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    to_status: str
    reason: str | None
    actor: str


@dataclass(frozen=True, slots=True)
class ListFilter:
    statuses: Sequence[str] | None = None
    goal: str | None = None
    channel: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None


# A text the gateway refused outright: it never left, so it is no touch.
FAILED = "failed"


class StaleStatus(Exception):
    """The interaction changed status under us (a concurrent writer); re-read and decide again."""


class InteractionRecords:
    def __init__(self, engine: AsyncEngine, *, tenant: str = DEFAULT_TENANT) -> None:
        self._engine = engine
        self.tenant = tenant
        self.counters = Counters(engine, tenant=tenant)
        self._dialect = engine.dialect.name

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def create(self, values: Mapping[str, Any], actor: str, reason: str | None) -> None:
        async with writing(self._engine) as conn:
            await conn.execute(insert(interactions).values(**values, tenant=self.tenant))
            await _history(
                conn,
                self.tenant,
                values["id"],
                None,
                StatusChange(values["status"], reason, actor),
                values["received_at"],
            )

    async def get(self, interaction_id: str) -> InteractionRow | None:
        async with reading(self._engine) as conn:
            row = (
                (await conn.execute(select(interactions).where(self._mine(interaction_id))))
                .mappings()
                .first()
            )
        return _row(InteractionRow, row) if row else None

    async def update(
        self,
        interaction_id: str,
        values: Mapping[str, Any],
        *,
        expected_status: str,
        change: StatusChange | None = None,
        at: datetime,
    ) -> None:
        """Apply ``values`` (and a status change) only if the status is still ``expected_status``."""
        async with writing(self._engine) as conn:
            await self._guarded_update(conn, interaction_id, values, expected_status, change, at)

    async def add_event(
        self,
        interaction_id: str,
        values: Mapping[str, Any],
        *,
        expected_status: str,
        event: StatusChange,
        at: datetime,
    ) -> None:
        """A line in the status history that keeps the status (a callback asked for, a job dispatched),
        with ``values`` set in the same transaction."""
        async with writing(self._engine) as conn:
            # Setting the status to itself keeps the guard (it is still what the caller read) with no values.
            guarded = {**values, "status": expected_status}
            await self._guarded_update(conn, interaction_id, guarded, expected_status, None, at)
            await _history(conn, self.tenant, interaction_id, expected_status, event, at)

    async def add_message(
        self,
        message: MessageRow,
        values: Mapping[str, Any],
        *,
        expected_status: str,
        change: StatusChange | None,
        opt: OptChange | None = None,
        delivery: DeliveryRow | None = None,
        receipt: Receipt | None = None,
    ) -> None:
        """The message, the interaction's counters and status, an opt-out it carried, how it was
        delivered and the webhook receipt it came with: all or nothing (``AlreadyReceived`` when the
        receipt was taken before, and then nothing is written)."""
        async with writing(self._engine) as conn:
            if receipt is not None:
                await take_receipt(conn, receipt, message.created_at)
            await self._guarded_update(
                conn, message.interaction_id, values, expected_status, change, message.created_at
            )
            await conn.execute(insert(messages).values(**_values(message), tenant=self.tenant))
            if delivery is not None:
                await conn.execute(insert(deliveries).values(**_values(delivery), tenant=self.tenant))
            if opt is not None:
                await apply_opt_change(conn, opt, tenant=self.tenant)

    async def add_call(
        self,
        call: CallRow,
        values: Mapping[str, Any],
        *,
        expected_status: str,
        change: StatusChange | None,
        opt: OptChange | None = None,
    ) -> None:
        async with writing(self._engine) as conn:
            await self._guarded_update(
                conn, call.interaction_id, values, expected_status, change, call.created_at
            )
            await conn.execute(insert(calls).values(**_values(call), tenant=self.tenant))
            if opt is not None:
                await apply_opt_change(conn, opt, tenant=self.tenant)

    async def exists_for_lead(self, lead_id: int) -> bool:
        query = (
            select(interactions.c.id)
            .where(interactions.c.tenant == self.tenant, interactions.c.servicetitan_lead_id == lead_id)
            .limit(1)
        )
        async with reading(self._engine) as conn:
            return (await conn.execute(query)).first() is not None

    async def in_statuses(self, statuses: Sequence[str], *, limit: int) -> list[InteractionRow]:
        """Interactions in these statuses, the longest-waiting first (the lead queue's candidates).

        One ordered range of ``ix_interactions_status`` per status, merged: the open few are found
        without walking the (mostly closed) old rows."""
        c = interactions.c
        if not statuses:
            return []
        parts = [
            select(interactions)
            .where(c.tenant == self.tenant, c.status == status)
            .order_by(c.received_at, c.id)
            .limit(limit)
            .subquery()
            for status in dict.fromkeys(statuses)
        ]
        merged = union_all(*(select(*part.c) for part in parts)).subquery()
        query = select(merged).order_by(merged.c.received_at, merged.c.id).limit(limit)
        return await self._all(InteractionRow, query)

    async def touches_by_interaction(self, interaction_ids: Sequence[str]) -> dict[str, list[datetime]]:
        """Every outbound text and call of each interaction, oldest first (the cadence's count)."""
        ids = list(interaction_ids)
        found: dict[str, list[datetime]] = {i: [] for i in ids}
        if not ids:
            return found
        query = (
            select(messages.c.interaction_id, messages.c.created_at)
            .select_from(_touching_messages())
            .where(
                messages.c.tenant == self.tenant,
                messages.c.interaction_id.in_(ids),
                messages.c.direction == "outbound",
                _not_failed(),
            )
            .union_all(
                select(calls.c.interaction_id, calls.c.created_at).where(
                    calls.c.tenant == self.tenant,
                    calls.c.interaction_id.in_(ids),
                    calls.c.direction == "outbound",
                )
            )
        )
        async with reading(self._engine) as conn:
            for interaction_id, at in await conn.execute(query):
                found[interaction_id].append(aware(at))
        return {key: sorted(times) for key, times in found.items()}

    async def awaiting_the_office(self, interaction_ids: Sequence[str]) -> set[str]:
        """Those with a booking request the office has not converted or dismissed yet (booking mode).
        Booking requests carry ServiceTitan's tenant id, not the deployment's; the ids are this tenant's."""
        ids = list(interaction_ids)
        if not ids:
            return set()
        query = select(booking_requests.c.interaction_id).where(
            booking_requests.c.interaction_id.in_(ids),
            booking_requests.c.status.in_(("pending", "requested")),
        )
        async with reading(self._engine) as conn:
            return set((await conn.execute(query)).scalars())

    async def outbound_texts_since(self, interaction_id: str, since: datetime) -> list[str]:
        """The texts that went out (or may have: pending, unknown) on the conversation since ``since``."""
        query = select(messages.c.text).where(
            self._mine_messages(interaction_id),
            messages.c.direction == "outbound",
            messages.c.created_at >= as_utc(since),
        )
        async with reading(self._engine) as conn:
            return list((await conn.execute(query)).scalars())

    async def last_inbound_texts(self, interaction_ids: Sequence[str]) -> dict[str, str]:
        ids = list(interaction_ids)
        if not ids:
            return {}
        latest = (
            select(messages.c.interaction_id, func.max(messages.c.created_at).label("at"))
            .where(
                messages.c.tenant == self.tenant,
                messages.c.interaction_id.in_(ids),
                messages.c.direction == "inbound",
            )
            .group_by(messages.c.interaction_id)
            .subquery()
        )
        query = (
            select(messages.c.interaction_id, messages.c.text)
            .join(
                latest,
                and_(
                    messages.c.interaction_id == latest.c.interaction_id, messages.c.created_at == latest.c.at
                ),
            )
            .where(messages.c.tenant == self.tenant)
        )
        async with reading(self._engine) as conn:
            return {row[0]: row[1] for row in await conn.execute(query)}

    async def outbound_times(self, interaction_ids: Sequence[str], since: datetime) -> list[datetime]:
        """When texts and calls went out to these interactions since ``since`` (touches, for the cap). A
        text counts from the moment it is reserved — pending, sent or of unknown fate — unless the gateway
        refused it (``failed``: it never left)."""
        ids = list(interaction_ids)
        if not ids:
            return []
        query = (
            select(messages.c.created_at)
            .select_from(_touching_messages())
            .where(
                messages.c.tenant == self.tenant,
                messages.c.interaction_id.in_(ids),
                messages.c.direction == "outbound",
                messages.c.created_at >= as_utc(since),
                _not_failed(),
            )
            .union_all(
                select(calls.c.created_at).where(
                    calls.c.tenant == self.tenant,
                    calls.c.interaction_id.in_(ids),
                    calls.c.direction == "outbound",
                    calls.c.created_at >= as_utc(since),
                )
            )
        )
        async with reading(self._engine) as conn:
            return sorted(aware(row[0]) for row in await conn.execute(query))

    async def _guarded_update(
        self,
        conn: AsyncConnection,
        interaction_id: str,
        values: Mapping[str, Any],
        expected_status: str,
        change: StatusChange | None,
        at: datetime,
    ) -> None:
        row_values = dict(values)
        if change is not None:
            row_values["status"] = change.to_status
        statement = (
            update(interactions)
            .where(self._mine(interaction_id), interactions.c.status == expected_status)
            .values(**row_values)
        )
        if (await conn.execute(statement)).rowcount != 1:
            raise StaleStatus(interaction_id)
        if change is not None and change.to_status != expected_status:
            await _history(conn, self.tenant, interaction_id, expected_status, change, at)

    async def messages(self, interaction_id: str) -> list[MessageRow]:
        query = (
            select(messages)
            .where(messages.c.tenant == self.tenant, messages.c.interaction_id == interaction_id)
            .order_by(messages.c.created_at)
        )
        return await self._all(MessageRow, query)

    async def deliveries(self, interaction_id: str) -> dict[str, DeliveryRow]:
        """How each outbound text of the interaction left and how far it got, by message id."""
        query = (
            select(deliveries)
            .join(messages, messages.c.id == deliveries.c.message_id)
            .where(
                deliveries.c.tenant == self.tenant,
                messages.c.tenant == self.tenant,
                messages.c.interaction_id == interaction_id,
            )
        )
        return {row.message_id: row for row in await self._all(DeliveryRow, query)}

    async def calls(self, interaction_id: str) -> list[CallRow]:
        query = (
            select(calls)
            .where(calls.c.tenant == self.tenant, calls.c.interaction_id == interaction_id)
            .order_by(calls.c.created_at)
        )
        return await self._all(CallRow, query)

    async def history(self, interaction_id: str) -> list[HistoryRow]:
        query = (
            select(status_history)
            .where(status_history.c.tenant == self.tenant, status_history.c.interaction_id == interaction_id)
            .order_by(status_history.c.id)
        )
        return await self._all(HistoryRow, query)

    async def latest_open_for_phone(
        self, phone: str, statuses: Sequence[str], since: datetime | None = None
    ) -> InteractionRow | None:
        conditions = [
            interactions.c.tenant == self.tenant,
            interactions.c.phone == phone,
            interactions.c.status.in_(statuses),
        ]
        if since is not None:
            conditions.append(interactions.c.received_at >= as_utc(since))
        query = (
            select(interactions).where(*conditions).order_by(interactions.c.last_activity_at.desc()).limit(1)
        )
        found = await self._all(InteractionRow, query)
        return found[0] if found else None

    async def linked(
        self, *, lead_id: int | None, customer_id: int | None, phones: Sequence[str] = ()
    ) -> list[InteractionRow]:
        """Interactions tied to any of these ServiceTitan identities."""
        clauses = []
        if lead_id is not None:
            clauses.append(interactions.c.servicetitan_lead_id == lead_id)
        if customer_id is not None:
            clauses.append(interactions.c.customer_id == customer_id)
        if phones:
            clauses.append(interactions.c.phone.in_(list(phones)))
        if not clauses:
            return []
        query = select(interactions).where(interactions.c.tenant == self.tenant, or_(*clauses))
        return await self._all(InteractionRow, query)

    async def of_job(self, job_id: int) -> list[InteractionRow]:
        """The conversations linked to a ServiceTitan job, newest first."""
        mine = and_(interactions.c.tenant == self.tenant, interactions.c.job_id == job_id)
        query = select(interactions).where(mine)
        return await self._all(InteractionRow, query.order_by(interactions.c.received_at.desc()))

    async def page(
        self, where: ListFilter, *, limit: int, after: tuple[datetime, str] | None
    ) -> list[InteractionRow]:
        """Newest activity first; keyset pagination on (last_activity_at, id)."""
        query = self._filtered(select(interactions), where)
        if after is not None:
            at, last_id = as_utc(after[0]), after[1]
            query = query.where(
                or_(
                    interactions.c.last_activity_at < at,
                    and_(interactions.c.last_activity_at == at, interactions.c.id < last_id),
                )
            )
        query = query.order_by(interactions.c.last_activity_at.desc(), interactions.c.id.desc()).limit(limit)
        return await self._all(InteractionRow, query)

    async def matching(self, where: ListFilter) -> list[InteractionRow]:
        return await self._all(InteractionRow, self._filtered(select(interactions), where))

    async def count(self, where: ListFilter) -> int:
        if not where.search:  # whole days from the rollup, the edge days from the rows
            return await self.counters.count(
                Filter(where.since, where.until, where.goal, where.channel, where.type, where.statuses)
            )
        query = self._filtered(select(func.count()).select_from(interactions), where)
        async with reading(self._engine) as conn:
            return int((await conn.execute(query)).scalar_one())

    async def inbound_counts_since(
        self, since: datetime, until: datetime, *, interaction_id: str | None = None
    ) -> dict[str, int]:
        query = (
            select(messages.c.interaction_id, func.count())
            .where(
                messages.c.tenant == self.tenant,
                messages.c.direction == "inbound",
                messages.c.created_at >= as_utc(since),
                messages.c.created_at <= as_utc(until),
            )
            .group_by(messages.c.interaction_id)
        )
        if interaction_id is not None:
            query = query.where(messages.c.interaction_id == interaction_id)
        async with reading(self._engine) as conn:
            return {row[0]: int(row[1]) for row in await conn.execute(query)}

    def _filtered(self, query: Select[Any], where: ListFilter) -> Select[Any]:
        c = interactions.c
        query = query.where(c.tenant == self.tenant)
        if where.statuses is not None:
            query = query.where(c.status.in_(list(where.statuses)))
        for column, value in ((c.goal, where.goal), (c.channel, where.channel), (c.type, where.type)):
            if value is not None:
                query = query.where(column == value)
        if where.since is not None:
            query = query.where(c.received_at >= as_utc(where.since))
        if where.until is not None:
            query = query.where(c.received_at < as_utc(where.until))
        if where.search and where.search.strip():
            query = query.where(search_clause(self._dialect, where.search))
        return query

    def _mine_messages(self, interaction_id: str) -> Any:
        return and_(messages.c.tenant == self.tenant, messages.c.interaction_id == interaction_id)

    def _mine(self, interaction_id: str) -> Any:
        return and_(interactions.c.tenant == self.tenant, interactions.c.id == interaction_id)

    async def _all(self, kind: type, query: Select[Any]) -> list[Any]:
        async with reading(self._engine) as conn:
            return [_row(kind, row) for row in (await conn.execute(query)).mappings().all()]


def _touching_messages() -> Any:
    return messages.outerjoin(deliveries, deliveries.c.message_id == messages.c.id)


def _not_failed() -> Any:
    return or_(deliveries.c.status.is_(None), deliveries.c.status != FAILED)


async def _history(
    conn: AsyncConnection,
    tenant: str,
    interaction_id: str,
    from_status: str | None,
    change: StatusChange,
    at: datetime,
) -> None:
    await conn.execute(
        insert(status_history).values(
            tenant=tenant,
            interaction_id=interaction_id,
            from_status=from_status,
            to_status=change.to_status,
            reason=change.reason,
            actor=change.actor,
            at=at,
        )
    )


def _values(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _row(kind: type, row: Mapping[str, Any]) -> Any:
    names = {f.name for f in fields(kind)}
    return kind(**{name: aware(row[name]) for name in names})
