"""Building audit events and opening an audit log on a SQLite file, for tests that need no server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from st_mcp.policy.audit import AuditEvent, audit_event
from st_mcp.store.audit import AuditLog
from st_mcp.store.engine import open_engine

T0 = datetime(2026, 5, 5, 16, 30, tzinfo=UTC)


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'audit.db'}"


def event(n: int, **fields: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "at": T0 + timedelta(minutes=n),
        "kind": "tool_call",
        "principal": "dana" if n % 2 else "virtual_agent",
        "role": "csr" if n % 2 else "virtual_agent",
        "transport": "memory",
        "tool": "takeover_interaction" if n % 2 else "log_message",
        "arguments": {"interaction_id": f"int_{n:04d}", "text": f"message {n}"},
        "outcome": "ok",
        "interaction_id": f"int_{n:04d}",
        "upstream_requests": n % 3,
        "duration_ms": 1.5 * n,
    }
    values.update(fields)
    return audit_event(**values)


@contextlib.asynccontextmanager
async def audit_log(url: str) -> AsyncIterator[AuditLog]:
    engine = await open_engine(url)
    try:
        yield AuditLog(engine)
    finally:
        await engine.dispose()


async def seed(url: str, count: int) -> None:
    async with audit_log(url) as log:
        for n in range(1, count + 1):
            await log.append(event(n))
