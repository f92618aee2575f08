"""The revenue services, wired once per server (one field on the app context)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from st_mcp.config import Settings
from st_mcp.services.availability import Availability
from st_mcp.services.booking import Booking
from st_mcp.services.catalog import Catalog
from st_mcp.services.customers import Customers
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.outreach.service import Outreach
from st_mcp.services.reference import ReferenceData
from st_mcp.services.revenue.conversions import BookingConversions
from st_mcp.services.revenue.estimates import Estimates
from st_mcp.services.revenue.invoices import Invoices
from st_mcp.services.revenue.maintenance import MaintenanceVisits
from st_mcp.services.revenue.memberships import Memberships
from st_mcp.services.revenue.reminders import MaintenanceReminders
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.store import Store
from st_mcp.store.revenue import FollowUpClaims


@dataclass(frozen=True, slots=True)
class RevenueServices:
    memberships: Memberships
    maintenance: MaintenanceVisits
    estimates: Estimates
    invoices: Invoices
    conversions: BookingConversions
    reminders: MaintenanceReminders


def build_revenue(
    settings: Settings,
    st: ServiceTitanClient,
    store: Store,
    reference: ReferenceData,
    catalog: Catalog,
    customers: Customers,
    availability: Availability,
    booking: Booking,
    interactions: Interactions,
    outreach: Outreach,
    clock: Callable[[], datetime],
) -> RevenueServices:
    tenant = str(st.tenant_id)
    revenue = settings.revenue
    return RevenueServices(
        memberships=Memberships(st, reference, revenue, settings.escalation, settings.booking, clock),
        maintenance=MaintenanceVisits(st, catalog, customers, availability, booking, revenue, clock),
        estimates=Estimates(
            st,
            reference,
            customers,
            interactions,
            FollowUpClaims(store.engine, tenant, "estimate"),
            revenue,
            clock,
        ),
        invoices=Invoices(st, availability.zone),
        conversions=BookingConversions(
            st,
            booking.requests,
            interactions,
            outreach,
            availability,
            settings.booking,
            settings.persona,
            clock,
            store,
            leader_ttl=settings.leader_ttl_seconds,
        ),
        reminders=MaintenanceReminders(
            st, customers, interactions, FollowUpClaims(store.engine, tenant, "maintenance"), revenue, clock
        ),
    )
