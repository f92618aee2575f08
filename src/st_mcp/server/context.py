"""Everything a tool call may use, built once per server by the lifespan."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from st_mcp import metrics
from st_mcp.config import Settings
from st_mcp.config_tenants import DEFAULT_TENANT
from st_mcp.messaging.gateway import Gateway
from st_mcp.messaging.settings import build_gateway
from st_mcp.policy.compliance import help_reply
from st_mcp.policy.identity import Principal
from st_mcp.policy.lead_locale import load_tables
from st_mcp.policy.permissions import Policy, ai_roles, build_roles
from st_mcp.server.auth import request_principal
from st_mcp.services.audit import AuditTrail
from st_mcp.services.availability import Availability
from st_mcp.services.booking import Booking
from st_mcp.services.catalog import Catalog
from st_mcp.services.customers import Customers
from st_mcp.services.escalation import Escalations
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.lifecycle.wiring import LifecycleServices, build_lifecycle
from st_mcp.services.optout import OptOutDetector
from st_mcp.services.outreach.gate import ComplianceGate, audited
from st_mcp.services.outreach.instant import instant_text
from st_mcp.services.outreach.poller import LeadPoller
from st_mcp.services.outreach.queue import LeadQueueService
from st_mcp.services.outreach.service import Outreach
from st_mcp.services.periodic import Leader
from st_mcp.services.reference import ReferenceData
from st_mcp.services.revenue.bundle import RevenueServices, build_revenue
from st_mcp.services.slots import SlotSigner
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.store import Store
from st_mcp.store.audit import AuditLog
from st_mcp.store.deliveries import DeliveryRecords
from st_mcp.store.interactions import InteractionRow
from st_mcp.store.lifecycle import LifecycleRecords
from st_mcp.store.secrets import shared_secret
from st_mcp.store.suppressions import SuppressionList
from st_mcp.store.watermarks import Watermarks
from st_mcp.upstream import Upstream, connect_configured

if TYPE_CHECKING:
    from st_mcp.sandbox.clock import SandboxClock


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one tool call did upstream (kept for the audit log and for tests)."""

    tool: str
    outcome: str
    upstream_requests: int
    duration_ms: float
    upstream_round_trips: int = 0  # sequential ones: what the caller waited for


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
    outreach: Outreach
    lead_queue: LeadQueueService
    lead_poller: LeadPoller
    clock: Callable[[], datetime]
    process_principal: Principal  # who this process is on stdio (from settings)
    policy: Policy
    audit: AuditTrail  # every tool call and compliance decision, hash-chained
    revenue: RevenueServices  # memberships, maintenance visits, estimates, invoices, booking conversions
    lifecycle: LifecycleServices  # after the booking: ETA, notes, callbacks, triage, history, job events
    # The most recent tool calls (bounded: a long-running server must not grow without end).
    calls: deque[CallRecord] = field(default_factory=lambda: deque(maxlen=1000))

    @property
    def tenant(self) -> str:
        """Whose services these are (``[tenants.<name>]``; ``default`` without blocks)."""
        return self.settings.identity.tenant or DEFAULT_TENANT

    @property
    def st(self) -> ServiceTitanClient:
        return self.upstream.client

    @property
    def principal(self) -> Principal:
        """Who is calling: the bearer token's principal on HTTP/SSE, else the process principal — with
        whether its role is an AI (``ai = true`` roles are held to the agent's rules, takeover included)."""
        return self.policy.identify(request_principal() or self.process_principal)

    @property
    def may_hear_calls(self) -> bool:
        """Listen to Call Recording: without it call transcripts and recordings stay hidden."""
        return self.policy.can(self.principal.role, "recordings.listen")


def principal_from(settings: Settings) -> Principal:
    """The stdio process's one identity (HTTP identities arrive with each request's bearer token)."""
    identity = settings.identity
    return Principal(
        name=identity.principal or identity.role, role=identity.role, tenant=identity.tenant or DEFAULT_TENANT
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


async def _clock(
    settings: Settings, sandbox_clock: SandboxClock | None, store: Store
) -> Callable[[], datetime]:
    """Real time; or, with ST_MCP_CLOCK, a clock that started there and runs on. Every process on one
    database starts it from the same real moment, so their times agree. On the embedded sandbox the
    server and the tenant share one clock, so "now" agrees with capacity."""
    start = settings.servicetitan.sandbox_clock
    rate = settings.servicetitan.sandbox_clock_rate
    if start is not None:
        since = await Watermarks(store.engine, tenant=store.tenant).first(
            f"clock:{start.isoformat()}", utc_now()
        )
        if sandbox_clock is None:
            from st_mcp.sandbox.clock import SandboxClock  # only a sandbox tenant runs its own clock

            return SandboxClock.starting_at(start, since=since, rate=rate).now
        sandbox_clock.run_from(start, since=since, rate=rate)
    return sandbox_clock.now if sandbox_clock is not None else utc_now


def _instant_reply(settings: Settings) -> Callable[[InteractionRow], str] | None:
    template, persona = settings.speed_to_lead.instant_reply, settings.persona
    if template is None:
        return None
    return lambda row: instant_text(
        template, name=row.name, company=persona.company_name, agent_name=persona.agent_name
    )


@contextlib.asynccontextmanager
async def open_app_context(
    settings: Settings,
    upstream: Upstream | None = None,
    gateway: Gateway | None = None,
    *,
    store: Store | None = None,
) -> AsyncIterator[AppContext]:
    """Open the store and the ServiceTitan client, wire the services, close both afterwards.

    ``upstream``, ``gateway`` and ``store`` (a tenant's view of a shared store) given by the caller are
    the caller's to close. ``settings``: one tenant's (``Settings.tenant_settings``)."""
    owned = upstream is None
    own_gateway = gateway is None
    own_store = store is None
    load_tables()  # a few milliseconds here rather than in the first gate decision
    upstream = upstream or connect_configured(settings)
    tenant = settings.identity.tenant or DEFAULT_TENANT
    upstream.client.meter.add_observer(metrics.upstream_observer(tenant))
    if store is None:
        store = await Store.open(settings.database_url, tenant=settings.identity.tenant or DEFAULT_TENANT)
    reference: ReferenceData | None = None
    try:
        st = upstream.client
        sandbox = upstream.sandbox_app.state.sandbox if upstream.sandbox_app is not None else None
        # On the embedded sandbox the server shares its clock, so "now" agrees with capacity.
        clock = await _clock(settings, sandbox.clock if sandbox is not None else None, store)
        reference = ReferenceData(st)
        reference.prefetch()
        catalog = Catalog(reference, settings.booking)
        signer = SlotSigner(await shared_secret(store.engine, "slot-signing", tenant=store.tenant))
        availability = Availability(st, catalog, signer, settings.booking)
        customers = Customers(st, reference, catalog, availability)
        audit = AuditTrail(
            AuditLog(store.engine, tenant=store.tenant), clock, ZoneInfo(settings.booking.business_timezone)
        )
        suppressions = SuppressionList(store.engine, tenant=store.tenant)
        gate = ComplianceGate(
            store.interactions,
            suppressions,
            settings.compliance,
            business_timezone=settings.booking.business_timezone,
            clock=clock,
            record=audited(audit, tenant),
        )
        persona = settings.persona
        interactions = Interactions(
            store.interactions,
            catalog,
            reference,
            settings.engagement,
            clock,
            gate=gate,
            suppressions=suppressions,
            help_text=help_reply(
                settings.compliance, company=persona.company_name, support_phone=persona.support_phone
            ),
            opt_out=OptOutDetector(settings.compliance.opt_out_keywords, settings.compliance.opt_out_phrases),
        )
        gateway = gateway or build_gateway(settings.messaging, clock=clock)
        outreach = Outreach(
            interactions,
            gateway,
            suppressions,
            clock,
            deliveries=DeliveryRecords(store.engine, tenant=store.tenant),
            opt_out_confirmation=(
                f"{persona.company_name}: you're unsubscribed and will get no more messages. "
                "Reply START to opt back in."
            ),
            instant_reply=_instant_reply(settings),
        )
        lead_queue = LeadQueueService(
            store.interactions, interactions, gate, suppressions, settings.cadence, clock, tenant=tenant
        )
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
        revenue = build_revenue(
            settings,
            st,
            store,
            reference,
            catalog,
            customers,
            availability,
            booking,
            interactions,
            outreach,
            clock,
        )
        lifecycle = build_lifecycle(
            settings,
            st=st,
            store=store,
            reference=reference,
            availability=availability,
            interactions=interactions,
            outreach=outreach,
            escalations=escalations,
            conversions=revenue.conversions,
            clock=clock,
        )
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
            outreach=outreach,
            lead_queue=lead_queue,
            lead_poller=LeadPoller(
                st,
                reference,
                customers,
                interactions,
                store.interactions,
                LifecycleRecords(store.engine, str(st.tenant_id)),  # the feed's token, as the watcher's
                Watermarks(store.engine, tenant=store.tenant),  # the pre-feed poller's place (the upgrade)
                lookback=timedelta(hours=settings.leads.first_poll_lookback_hours),
                clock=clock,
                # One pass at a time per tenant across replicas (and the `st-mcp leads` command).
                leader=Leader(
                    store.engine, f"leads-poller:{tenant}", settings.leader_ttl_seconds, tenant=store.tenant
                ),
            ),
            clock=clock,
            process_principal=principal_from(settings),
            policy=Policy(build_roles(settings.access.roles), ai_roles(settings.access.roles)),
            audit=audit,
            revenue=revenue,
            lifecycle=lifecycle,
        )
    finally:
        if own_gateway and gateway is not None:
            await gateway.aclose()
        if reference is not None:
            await reference.aclose()
        if own_store:
            await store.close()
        if owned:
            await upstream.client.aclose()
