"""The audit trail on disk: one append-only, hash-chained table (``audit_events``).

Appends are group-committed by one writer per ``AuditLog`` (one per process and store): concurrent
``append`` calls queue their events, and one of them — the leader — writes everything queued in one
transaction: take the head lock, read the last (seq, hash), chain the batch in memory after it, insert it,
commit. Callers that arrived while a batch was being written form the next batch, whose leader is the
first of them. So at 200 concurrent tool calls there is one writer and a few commits, not 200 writers
queueing on the database's lock (which is what lost records: "database is locked").

Acknowledged means committed: ``append`` returns only after the transaction holding its record has
committed, and the guard awaits it before the tool's result goes back — a crash can lose only records
whose calls had not been answered. A failed batch (a database error, a lost race) is rolled back and
retried whole, re-chained on the head it then finds; if its commit did happen but was reported as failed,
the retry finds its event ids already stored and returns those records instead of writing them twice.

Across processes the head lock is what it was: ``BEGIN IMMEDIATE`` on SQLite (the write lock is taken
before the read, ``busy_timeout`` makes other processes wait), a transaction-scoped advisory lock on
PostgreSQL — and the primary key on ``seq`` is the backstop everywhere: two writers that read the same
last record cannot both insert its successor, so the loser retries instead of forking the chain. Nothing
here updates or deletes a record.

Each tenant has its own chain (migration 0007): its own ``seq`` from 1, its own head and head lock, its
own genesis. An ``AuditLog`` reads, writes and verifies one tenant's chain; a tampered record in one
tenant's chain breaks that chain only. (On SQLite the head lock is the database's one write lock, shared.)
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import String, func, insert, select, type_coerce
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from st_mcp.policy.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditRecord,
    ChainChecker,
    VerifyResult,
    canonical,
    seal,
)
from st_mcp.store.schema import audit_events
from st_mcp.store.tenancy import DEFAULT_TENANT
from st_mcp.store.transaction import advisory_key

# pg_advisory_xact_lock key for "the audit chain's head" of one tenant: a hash of this name and the tenant.
_PG_LOCK_NAME = "st-mcp audit head"
_ATTEMPTS = 25
_MAX_BATCH = 500  # records per transaction (a burst beyond it is written in several)


class AuditWriteError(Exception):
    """The record could not be appended (the database kept refusing)."""


@dataclass(slots=True, eq=False)
class _Pending:
    """One event waiting for its batch: set ``record`` (or ``error``) and ``wake`` when settled, or
    ``leader`` and ``wake`` when it is to write the next batch."""

    event: AuditEvent
    wake: anyio.Event = field(default_factory=anyio.Event)
    leader: bool = False
    record: AuditRecord | None = None
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    since: datetime | None = None
    until: datetime | None = None
    principal: str | None = None
    tool: str | None = None
    outcome: str | None = None


async def audit_tenants(engine: AsyncEngine) -> list[str]:
    """The tenants that have an audit chain in this store, by name."""
    query = select(audit_events.c.tenant).distinct().order_by(audit_events.c.tenant)
    async with engine.connect() as conn:
        return [str(row[0]) for row in await conn.execute(query)]


class AuditLog:
    def __init__(self, engine: AsyncEngine, *, tenant: str = DEFAULT_TENANT) -> None:
        self._engine = engine
        self.tenant = tenant
        self._pg_lock_key = advisory_key(_PG_LOCK_NAME, tenant)
        dialect = engine.dialect.name
        database = engine.url.database
        self._sqlite_file = dialect == "sqlite" and database not in (None, "", ":memory:")
        self._postgres = dialect == "postgresql"
        self._raw_times = dialect == "sqlite"
        self._queue: list[_Pending] = []  # events waiting for a batch, in arrival order
        self._leading = False  # a batch is being written (its leader hands over to the next)

    # -- writing -------------------------------------------------------------------------------------
    async def append(self, event: AuditEvent) -> AuditRecord:
        """Chain ``event`` after the last record; return once the batch holding it has committed.

        Shielded from cancellation: a caller cancelled while its batch is being written (or while it
        leads one) still has its record written, and the callers behind it are not stranded."""
        item = _Pending(event)
        with anyio.CancelScope(shield=True):
            self._queue.append(item)
            if self._leading:
                await item.wake.wait()  # our batch committed, or we lead the next one
            else:
                self._leading = item.leader = True
            if item.leader:
                await self._lead()
        if item.error is not None:
            raise item.error
        assert item.record is not None
        return item.record

    async def _lead(self) -> None:
        """Write the queue's head batch (it holds the leader's own event), then hand over."""
        batch, self._queue = self._queue[:_MAX_BATCH], self._queue[_MAX_BATCH:]
        try:
            await self._commit(batch)
        finally:
            if self._queue:
                successor = self._queue[0]
                successor.leader = True
                successor.wake.set()
            else:
                self._leading = False

    async def _commit(self, batch: list[_Pending]) -> None:
        failure: Exception | None = None
        for attempt in range(_ATTEMPTS):
            try:
                records = await self._write([item.event for item in batch], retry=attempt > 0)
            except (IntegrityError, OperationalError, InterfaceError) as exc:
                # Another writer took these seqs, or the database refused (locked, connection lost):
                # nothing of this batch was committed unless the retry finds it. Back off, then again.
                failure = exc
                await anyio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
                continue
            except Exception as exc:
                failure = exc
                break
            for item, record in zip(batch, records, strict=True):
                item.record = record
                item.wake.set()
            return
        error = AuditWriteError(f"could not append {len(batch)} record(s) after {_ATTEMPTS} attempts")
        error.__cause__ = failure
        for item in batch:
            item.error = error
            item.wake.set()

    async def _write(self, events: list[AuditEvent], *, retry: bool) -> list[AuditRecord]:
        async with self._writing() as conn:
            if retry:  # did the last attempt commit after all (an error reported after the commit)?
                stored = await self._stored(conn, [event.id for event in events])
                if stored is not None:
                    return stored
            last = (
                await conn.execute(
                    select(audit_events.c.seq, audit_events.c.hash)
                    .where(self._mine())
                    .order_by(audit_events.c.seq.desc())
                    .limit(1)
                )
            ).first()
            seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
            records = []
            for event in events:  # chained in memory, in arrival order
                seq += 1
                record = seal(event, seq=seq, prev_hash=prev_hash)
                records.append(record)
                prev_hash = record.hash
            await conn.execute(insert(audit_events), [_row(record, self.tenant) for record in records])
        return records

    async def _stored(self, conn: AsyncConnection, ids: list[str]) -> list[AuditRecord] | None:
        """The batch's records when they are already stored (a batch commits whole or not at all)."""
        query = self._select().where(self._mine(), audit_events.c.id.in_(ids)).order_by(audit_events.c.seq)
        rows = (await conn.execute(query)).mappings().all()
        if not rows:
            return None
        found = {row["id"]: _record(row) for row in rows}
        return [found[i] for i in ids]

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            if self._sqlite_file:
                # Take the write lock before reading the head, so writers queue instead of colliding.
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif self._postgres:
                await conn.execute(select(func.pg_advisory_xact_lock(self._pg_lock_key)))
            yield conn
            await conn.commit()

    # -- reading -------------------------------------------------------------------------------------
    async def page(
        self, where: AuditQuery = AuditQuery(), *, limit: int = 25, before: int | None = None
    ) -> list[AuditRecord]:
        """Newest first; keyset pagination on ``seq`` (``before``: the last seq of the previous page)."""
        query = self._select().where(self._mine()).order_by(audit_events.c.seq.desc()).limit(limit)
        query = _filtered(query, where)
        if before is not None:
            query = query.where(audit_events.c.seq < before)
        async with self._engine.connect() as conn:
            return [_record(row) for row in (await conn.execute(query)).mappings().all()]

    async def iter_since(
        self, since: datetime | None = None, *, batch: int = 500
    ) -> AsyncIterator[AuditRecord]:
        """Oldest first (for export), from ``since`` on; read in batches, so any size streams."""
        async for record in self._ascending(AuditQuery(since=since), batch):
            yield record

    async def head(self) -> tuple[int, str] | None:
        query = (
            select(audit_events.c.seq, audit_events.c.hash)
            .where(self._mine())
            .order_by(audit_events.c.seq.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            last = (await conn.execute(query)).first()
        return (int(last[0]), str(last[1])) if last else None

    async def hash_at(self, seq: int) -> str | None:
        """The stored hash of record ``seq``, or None when there is no such record."""
        query = select(audit_events.c.hash).where(self._mine(), audit_events.c.seq == seq)
        async with self._engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return str(found) if found is not None else None

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            query = select(func.count()).select_from(audit_events).where(self._mine())
            return int((await conn.execute(query)).scalar_one())

    # -- checking ------------------------------------------------------------------------------------
    async def verify(self, *, batch: int = 1000) -> VerifyResult:
        """Walk this tenant's whole chain in ``seq`` order; stop at the first broken record and name it."""
        checker = ChainChecker()
        async for record in self._ascending(AuditQuery(), batch):
            try:
                intact = checker.feed(record)
            except (TypeError, ValueError):
                checker.problem = (record.seq, f"record {record.seq}: its contents are unreadable (edited?)")
                intact = False
            if not intact:
                break
        return checker.result()

    # -- helpers -------------------------------------------------------------------------------------
    def _mine(self) -> Any:
        return audit_events.c.tenant == self.tenant

    def _select(self) -> Any:
        columns = [c for c in audit_events.c if c.name not in ("at", "tenant")]
        # On SQLite a time is text: read it raw, so an edited, unparseable time is reported, not raised.
        at = type_coerce(audit_events.c.at, String).label("at") if self._raw_times else audit_events.c.at
        return select(*columns, at)

    async def _ascending(self, where: AuditQuery, batch: int) -> AsyncIterator[AuditRecord]:
        after = 0
        while True:
            query = _filtered(self._select(), where).where(self._mine(), audit_events.c.seq > after)
            query = query.order_by(audit_events.c.seq).limit(batch)
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).mappings().all()
            for row in rows:
                yield _record(row)
            if len(rows) < batch:
                return
            after = int(rows[-1]["seq"])


def _filtered(query: Any, where: AuditQuery) -> Any:
    c = audit_events.c
    if where.since is not None:
        query = query.where(c.at >= _utc(where.since))
    if where.until is not None:
        query = query.where(c.at < _utc(where.until))
    for column, value in ((c.principal, where.principal), (c.tool, where.tool), (c.outcome, where.outcome)):
        if value is not None:
            query = query.where(column == value)
    return query


def _row(record: AuditRecord, tenant: str) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "seq": record.seq,
        "id": record.id,
        "at": record.at,
        "kind": record.kind,
        "principal": record.principal,
        "role": record.role,
        "transport": record.transport,
        "tool": record.tool,
        "arguments": canonical(record.arguments),
        "outcome": record.outcome,
        "reason": record.reason,
        "interaction_id": record.interaction_id,
        "upstream_requests": record.upstream_requests,
        "duration_ms": record.duration_ms,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def _record(row: Any) -> AuditRecord:
    try:
        arguments = json.loads(row["arguments"])
    except (TypeError, ValueError):
        arguments = {"unparseable": row["arguments"]}  # an edited record: the hash check reports it
    return AuditRecord(
        seq=int(row["seq"]),
        id=row["id"],
        at=_moment(row["at"]),
        kind=row["kind"],
        principal=row["principal"],
        role=row["role"],
        transport=row["transport"],
        tool=row["tool"],
        arguments=arguments,
        outcome=row["outcome"],
        reason=row["reason"],
        interaction_id=row["interaction_id"],
        upstream_requests=row["upstream_requests"],
        duration_ms=row["duration_ms"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # not a time any more: the hash check reports the record
    if isinstance(value, datetime):
        return _utc(value)
    return value


def _utc(value: datetime) -> datetime:
    # Times are stored in UTC (SQLite keeps them as naive text): compare and read them as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
