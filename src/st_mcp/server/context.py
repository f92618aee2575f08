"""Everything a tool call may use, built once per server by the lifespan."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from st_mcp.config import Settings
from st_mcp.policy.identity import Principal
from st_mcp.policy.permissions import Policy, build_roles
from st_mcp.services.availability import Availability
from st_mcp.services.booking import Booking
from st_mcp.services.catalog import Catalog
from st_mcp.services.customers import Customers
from st_mcp.services.escalation import Escalations
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.reference import ReferenceData
from st_mcp.services.slots import SlotSigner
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.store import Store
from st_mcp.store.secrets import shared_secret
from st_mcp.upstream import Upstream, connect_servicetitan


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one tool call did upstream (kept for the audit log and for tests)."""

    tool: str
    outcome: str
    upstream_requests: int
    duration_ms: float


@dataclass(slots=True)
class AppContext:
    settings: Settings
    upstream: Upstream
    store: Store
    reference: ReferenceData
    catalog: Catalog
    availability: Availability
    customers: Customers
    booking: Booking
    escalations: Escalations
    interactions: Interactions
    clock: Callable[[], datetime]
    principal: Principal
    policy: Policy
    # The most recent tool calls (bounded: a long-running server must not grow without end).
    calls: deque[CallRecord] = field(default_factory=lambda: deque(maxlen=1000))

    @property
    def st(self) -> ServiceTitanClient:
        return self.upstream.client

    @property
    def may_hear_calls(self) -> bool:
        """Listen to Call Recording: without it call transcripts and recordings stay hidden."""
        return self.policy.can(self.principal.role, "recordings.listen")


def principal_from(settings: Settings) -> Principal:
    """The stdio process's one identity (HTTP identities arrive with each request, later)."""
    identity = settings.identity
    return Principal(name=identity.principal or identity.role, role=identity.role)


def utc_now() -> datetime:
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def open_app_context(settings: Settings, upstream: Upstream | None = None) -> AsyncIterator[AppContext]:
    """Open the store and the ServiceTitan client, wire the services, close both afterwards."""
    owned = upstream is None
    upstream = upstream or connect_servicetitan(settings.servicetitan)
    store = await Store.open(settings.database_url)
    try:
        st = upstream.client
        sandbox = upstream.sandbox_app.state.sandbox if upstream.sandbox_app is not None else None
        # On the embedded sandbox the server shares its clock, so "now" agrees with capacity.
        clock = sandbox.now if sandbox is not None else utc_now
        reference = ReferenceData(st)
        catalog = Catalog(reference, settings.booking)
        signer = SlotSigner(await shared_secret(store.engine, "slot-signing"))
        availability = Availability(st, catalog, signer, settings.booking)
        customers = Customers(st, reference, catalog, availability)
        interactions = Interactions(store.interactions, catalog, reference, settings.engagement, clock)
        booking = Booking(
            st,
            store,
            reference,
            catalog,
            customers,
            availability,
            signer,
            interactions,
            settings.booking,
            clock,
        )
        escalations = Escalations(st, store, reference, interactions, settings.escalation, clock)
        yield AppContext(
            settings=settings,
            upstream=upstream,
            store=store,
            reference=reference,
            catalog=catalog,
            availability=availability,
            customers=customers,
            booking=booking,
            escalations=escalations,
            interactions=interactions,
            clock=clock,
            principal=principal_from(settings),
            policy=Policy(build_roles(settings.access.roles)),
        )
    finally:
        await store.close()
        if owned:
            await upstream.client.aclose()
