"""Fixtures for the Interactions tests: an agent and a CSR on one store and one sandbox tenant.

The server harness of ``tests/server`` (real ``MCPServer``, real in-memory ``Client``, embedded sandbox
pinned to Tuesday 2026-05-05 10:30 Denver) is reused as is. A second server, configured as the CSR
"Dana Whitfield", shares the harness's SQLite file and sandbox, so an agent and a CSR see one world —
the in-process counterpart of the two-process test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import func, insert, select

from st_mcp.config import load_settings
from st_mcp.server import create_server
from st_mcp.store.schema import bookings, calls, escalations, interactions, messages, status_history
from tests.server.conftest import FIXED_NOW, Harness, ok, refused
from tests.server.conftest import harness as harness  # the fixture, re-exported
from tests.server.conftest import store_url as store_url

CSR_NAME = "Dana Whitfield"
AGENT_NAME = "virtual_agent"  # the stdio principal's name when ST_MCP_PRINCIPAL is not set
STORE_TABLES = {
    "interactions": interactions,
    "messages": messages,
    "calls": calls,
    "status_history": status_history,
    "bookings": bookings,
    "escalations": escalations,
}

__all__ = ["AGENT_NAME", "CSR_NAME", "FIXED_NOW", "Harness", "ok", "refused"]


@pytest.fixture
async def agent(harness: Harness) -> AsyncIterator[Client]:
    """The virtual agent (the harness's default role)."""
    async with harness.connect() as connected:
        yield connected


@pytest.fixture
async def csr(harness: Harness, agent: Client) -> AsyncIterator[Client]:
    """A CSR principal on the same database and sandbox tenant as ``agent``."""
    settings = load_settings(
        environ={
            "ST_MCP_DATABASE_URL": str(harness.settings.database_url),
            "ST_MCP_ROLE": "csr",
            "ST_MCP_PRINCIPAL": CSR_NAME,
        }
    ).model_copy(update={"access": harness.settings.access})
    server = create_server(settings, upstream=harness.upstream)
    async with Client(server) as connected:
        yield connected


# -- the store, read and written independently of the server ----------------------------------------------
async def store_counts(harness: Harness) -> dict[str, int]:
    counts = {}
    async with harness.engine.connect() as conn:
        for name, table in STORE_TABLES.items():
            counts[name] = int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
    return counts


async def written(harness: Harness) -> dict[str, Any]:
    """Everything an interaction tool could write: store rows (every column) and the sandbox tenant."""
    async with harness.engine.connect() as conn:
        rows = {
            name: sorted(
                (tuple(str(v) for v in row) for row in await conn.execute(select(table))),
            )
            for name, table in STORE_TABLES.items()
        }
    return {"store": rows, "tenant": await harness.written_state()}


async def insert_interaction(harness: Harness, **values: Any) -> str:
    """One interaction row with chosen fields (defaults fill the rest), plus its first history row."""
    received: datetime = values.setdefault("received_at", FIXED_NOW)
    row = {
        "goal": "Speed to Lead",
        "channel": "SMS Agent",
        "type": "Lead",
        "status": "Started",
        "name": f"Lead {values['id']}",
        "phone": None,
        "last_activity_at": received,
        "inbound_count": 0,
        "outbound_count": 0,
        **values,
    }
    async with harness.engine.begin() as conn:
        await conn.execute(insert(interactions).values(**row))
        await conn.execute(
            insert(status_history).values(
                interaction_id=row["id"], from_status=None, to_status=row["status"], actor="test", at=received
            )
        )
    return str(row["id"])


async def insert_messages(
    harness: Harness, interaction_id: str, times: list[datetime], *, direction: str = "inbound"
) -> None:
    async with harness.engine.begin() as conn:
        for n, at in enumerate(times):
            await conn.execute(
                insert(messages).values(
                    id=f"msg_{interaction_id}_{direction}_{n}",
                    interaction_id=interaction_id,
                    direction=direction,
                    channel="sms",
                    sender="lead" if direction == "inbound" else "agent",
                    sender_name=None,
                    text=f"{direction} {n}",
                    created_at=at,
                )
            )


async def ingest(client: Client, name: str, phone: str, **extra: Any) -> dict[str, Any]:
    return await ok(client, "ingest_lead", {"name": name, "phone": phone, **extra})


async def say(client: Client, interaction_id: str, direction: str, text: str) -> dict[str, Any]:
    return await ok(
        client, "log_message", {"interaction_id": interaction_id, "direction": direction, "text": text}
    )
