"""Fixtures: the real MCP server, a real in-memory MCP client, the embedded sandbox, a SQLite file per test.

The sandbox clock is pinned to Tuesday 2026-05-05 10:30 in Denver, so capacity (and therefore every
window the tests book) is deterministic. Each ``Client(server)`` connection runs the server's lifespan,
which builds an ``AppContext``; the harness keeps every one of them so tests can read ``calls``
(upstream requests per tool call) and the store.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import st_mcp.server.tenants as server_tenants
from st_mcp.config import AccessSettings, Settings, load_settings
from st_mcp.policy.permissions import DEFAULT_ROLES
from st_mcp.sandbox import SandboxClock, SandboxConfig, SandboxTenant
from st_mcp.server import create_server
from st_mcp.server.context import AppContext
from st_mcp.store.schema import bookings, escalations
from st_mcp.upstream import Upstream, connect_servicetitan
from tests.postgres import pg_url as pg_url  # the fixture, for store_url
from tests.postgres import store_url as store_url

FIXED_NOW = datetime(2026, 5, 5, 16, 30, tzinfo=UTC)  # Tuesday 10:30 MDT

# Named customers of the seeded tenant (seed_data.ANCHOR_CUSTOMERS), the same under every seed.
JORDAN, JORDAN_LOCATION = 10300001, 10600001  # Denver 80210, member, phone 3035550142
PRIYA, PRIYA_LOCATION = 10300002, 10600002  # Boulder 80302, (720) 555-0118
LUCAS, LUCAS_LOCATION = 10300004, 10600004  # Austin 78704, not a member
HAROLD, HAROLD_LOCATION = 10300005, 10600005  # Colorado Springs 80903: outside the service area
GLORIA, GLORIA_LOCATION = 10300006, 10600006  # do-not-service
HEATING_REPAIR = 2210001
JORDAN_OPEN_LEAD = 12500008  # an Open lead of Jordan's, on the "Website" campaign
KAREN_OPEN_LEAD = 12500001  # an Open lead without a customer, on the "Angi" campaign

MODES = ("auto", "legacy")
# Every record collection of the sandbox tenant (the ones SandboxTenant.fingerprint digests).
RECORD_COLLECTIONS = (
    "business_units", "job_types", "campaigns", "tag_types", "cancel_reasons", "zones", "arrival_windows",
    "technicians", "shifts", "employees", "customers", "locations", "leads", "jobs", "appointments",
    "assignments", "invoices", "memberships", "task_types", "task_sources", "task_resolutions", "tasks",
    "membership_types", "recurring_service_types", "recurring_service_events", "estimates",
    "booking_providers", "bookings",
)  # fmt: skip


@dataclass
class Harness:
    settings: Settings
    clock: SandboxClock
    upstream: Upstream
    server: MCPServer
    engine: AsyncEngine
    apps: list[AppContext] = field(default_factory=list)

    @property
    def sandbox(self) -> SandboxTenant:
        assert self.upstream.sandbox_app is not None
        return self.upstream.sandbox_app.state.sandbox  # type: ignore[no-any-return]

    @property
    def app(self) -> AppContext:
        """The AppContext of the most recent client connection."""
        assert self.apps, "no client has connected yet"
        return self.apps[-1]

    def connect(self, mode: str = "auto") -> Client:
        return Client(self.server, mode=mode)  # type: ignore[arg-type]

    # -- the store, read independently of the server ------------------------------------------------
    async def count(self, table: Any) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    async def rows(self, table: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(select(table))).mappings()]

    # -- "nothing was written" ------------------------------------------------------------------------
    async def written_state(self) -> dict[str, Any]:
        """Everything a tool call could write: every sandbox record (digest + counts) and store rows."""
        sandbox = self.sandbox
        digest = hashlib.sha256()
        for name in RECORD_COLLECTIONS:  # repr of every record: like fingerprint(), ten times faster
            digest.update(repr(getattr(sandbox, name)).encode())
        return {
            "sandbox": digest.hexdigest(),
            "jobs": len(sandbox.jobs),
            "appointments": len(sandbox.appointments),
            "customers": len(sandbox.customers),
            "locations": len(sandbox.locations),
            "tasks": len(sandbox.tasks),
            "lead_notes": sum(len(lead.notes) for lead in sandbox.leads.values()),
            "bookings": await self.count(bookings),
            "escalations": await self.count(escalations),
        }

    def jobs_with_key(self, key: str) -> list[Any]:
        """Sandbox jobs whose externalData (under our application GUID) carries this booking key."""
        guid = self.settings.booking.application_guid.lower()
        return [
            job
            for job in self.sandbox.jobs.values()
            if any(value == key for _, value in job.external_data.get(guid, []))
        ]

    def capacity_requests(self) -> int:
        return sum(1 for method, path in self.sandbox.request_log if path.endswith("/capacity"))

    def token_requests(self) -> int:
        return sum(1 for method, path in self.sandbox.request_log if path == "/connect/token")


TEST_AGENT_PERMISSIONS = sorted(
    DEFAULT_ROLES["virtual_agent"] | {"chats.view", "recordings.listen", "jobs.cancel"}
)


@contextlib.asynccontextmanager
async def build_harness(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    latency_seconds: float = 0.0,
    database_url: str | None = None,
) -> AsyncIterator[Harness]:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path}/st.db"
    settings = load_settings(environ={"ST_MCP_DATABASE_URL": url})
    # The agent under test may also read conversations and cancel jobs, so tests can check its work
    # through the same client; an operator widens a role exactly this way ([access.roles]).
    settings = settings.model_copy(
        update={"access": AccessSettings(roles={"virtual_agent": TEST_AGENT_PERMISSIONS})}
    )
    clock = SandboxClock(fixed=FIXED_NOW)
    upstream = connect_servicetitan(
        settings.servicetitan, sandbox_config=SandboxConfig(clock=clock, latency_seconds=latency_seconds)
    )
    apps: list[AppContext] = []
    original = server_tenants.open_app_context

    @contextlib.asynccontextmanager
    async def capturing(settings: Settings, *args: Any, **kwargs: Any) -> AsyncIterator[AppContext]:
        async with original(settings, *args, **kwargs) as app:
            apps.append(app)
            yield app

    # The lifespan looks the name up at connection time, so every connection is captured.
    monkeypatch.setattr(server_tenants, "open_app_context", capturing)
    server = create_server(settings, upstream=upstream)
    engine = create_async_engine(url)
    try:
        yield Harness(settings, clock, upstream, server, engine, apps)
    finally:
        await engine.dispose()
        await upstream.client.aclose()  # the server does not own an upstream it was given


@pytest.fixture
async def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> AsyncIterator[Harness]:
    async with build_harness(tmp_path, monkeypatch, database_url=store_url) as built:
        yield built


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[Client]:
    async with harness.connect() as connected:
        yield connected


# -- calling tools ------------------------------------------------------------------------------------
async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert not result.is_error, f"{tool} failed: {text}"
    assert result.structured_content is not None
    return dict(result.structured_content)


async def refused(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """Call a tool that must fail as an isError result; return the message the model reads."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    assert result.content, "an error result must say what went wrong"
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in text
    return text


async def slots_for(
    client: Client, *, job_type: str = "Heating Repair", max_slots: int = 10, **where: Any
) -> list[dict[str, Any]]:
    where = where or {"zip": "80210"}
    offer = await ok(client, "get_available_slots", {"job_type": job_type, "max_slots": max_slots, **where})
    return list(offer["slots"])


async def new_interaction(client: Client, name: str, phone: str, zip_code: str = "80210") -> str:
    """A real interaction (bookings and escalations that name one must name an existing one)."""
    lead = await ok(
        client, "ingest_lead", {"name": name, "phone": phone, "zip": zip_code, "source": "Website"}
    )
    return str(lead["interaction_id"])


def booking_args(customer_id: int, location_id: int, slot_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "location_id": location_id,
        "slot_id": slot_id,
        "summary": "Furnace is blowing cold air.",
        **extra,
    }
