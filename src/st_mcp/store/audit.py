"""The audit trail on disk: one append-only, hash-chained table (``audit_events``).

Appending is one transaction: read the last (seq, hash), insert seq + 1 chained to it. Writers are
serialized where the database allows it cheaply — ``BEGIN IMMEDIATE`` on SQLite (the write lock is taken
before the read, and ``busy_timeout`` makes other processes wait for it), a transaction-scoped advisory
lock on PostgreSQL — and the primary key on ``seq`` is the backstop everywhere: two writers that read the
same last record cannot both insert its successor, so the loser re-reads and retries instead of forking
the chain. Nothing here updates or deletes a record.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import String, func, insert, select, type_coerce
from sqlalchemy.exc import IntegrityError
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

# pg_advisory_xact_lock key for "the audit chain's head" (any constant unique to this purpose).
_PG_LOCK_KEY = 0x5354_4D43_5041_5544  # "STMCPAUD"
_ATTEMPTS = 25


class AuditWriteError(Exception):
    """The record could not be appended (the database kept refusing)."""


@dataclass(frozen=True, slots=True)
class AuditQuery:
    since: datetime | None = None
    until: datetime | None = None
    principal: str | None = None
    tool: str | None = None
    outcome: str | None = None


class AuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        database = engine.url.database
        self._sqlite_file = dialect == "sqlite" and database not in (None, "", ":memory:")
        self._postgres = dialect == "postgresql"
        self._raw_times = dialect == "sqlite"

    # -- writing -------------------------------------------------------------------------------------
    async def append(self, event: AuditEvent) -> AuditRecord:
        """Chain ``event`` after the last record, in one transaction; retried if another writer won."""
        for attempt in range(_ATTEMPTS):
            try:
                async with self._writing() as conn:
                    last = (
                        await conn.execute(
                            select(audit_events.c.seq, audit_events.c.hash)
                            .order_by(audit_events.c.seq.desc())
                            .limit(1)
                        )
                    ).first()
                    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
                    record = seal(event, seq=seq, prev_hash=prev_hash)
                    await conn.execute(insert(audit_events).values(**_row(record)))
                return record
            except IntegrityError:
                # Another writer took this seq between our read and our insert: read again.
                await anyio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
        raise AuditWriteError(f"could not append after {_ATTEMPTS} attempts (writers kept colliding)")

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            if self._sqlite_file:
                # Take the write lock before reading the head, so writers queue instead of colliding.
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif self._postgres:
                await conn.execute(select(func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
            yield conn
            await conn.commit()

    # -- reading -------------------------------------------------------------------------------------
    async def page(
        self, where: AuditQuery = AuditQuery(), *, limit: int = 25, before: int | None = None
    ) -> list[AuditRecord]:
        """Newest first; keyset pagination on ``seq`` (``before``: the last seq of the previous page)."""
        query = self._select().order_by(audit_events.c.seq.desc()).limit(limit)
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
        query = select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)
        async with self._engine.connect() as conn:
            last = (await conn.execute(query)).first()
        return (int(last[0]), str(last[1])) if last else None

    async def hash_at(self, seq: int) -> str | None:
        """The stored hash of record ``seq``, or None when there is no such record."""
        query = select(audit_events.c.hash).where(audit_events.c.seq == seq)
        async with self._engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return str(found) if found is not None else None

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(audit_events))).scalar_one())

    # -- checking ------------------------------------------------------------------------------------
    async def verify(self, *, batch: int = 1000) -> VerifyResult:
        """Walk the whole chain in ``seq`` order; stop at the first broken record and name it."""
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
    def _select(self) -> Any:
        columns = [c for c in audit_events.c if c.name != "at"]
        # On SQLite a time is text: read it raw, so an edited, unparseable time is reported, not raised.
        at = type_coerce(audit_events.c.at, String).label("at") if self._raw_times else audit_events.c.at
        return select(*columns, at)

    async def _ascending(self, where: AuditQuery, batch: int) -> AsyncIterator[AuditRecord]:
        after = 0
        while True:
            query = _filtered(self._select(), where).where(audit_events.c.seq > after)
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


def _row(record: AuditRecord) -> dict[str, Any]:
    return {
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
