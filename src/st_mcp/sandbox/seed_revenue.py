"""The revenue side of the seeded tenant: what the club includes, the members' tune-ups due in the next
month, open estimates to follow up, an unpaid invoice and the booking provider this server books through.

Runs after the rest of the seed with its own random stream, so the older parts of the tenant (and every
test written against them) stay exactly as they were.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .entities import (
    Address,
    BookingProvider,
    CrmBooking,
    Customer,
    Estimate,
    EstimateItem,
    MembershipType,
    RecurringServiceEvent,
    RecurringServiceType,
)
from .state import SandboxTenant

BOOKING_PROVIDER_NAME = "st-mcp Virtual Agent"
CLUB = "Peak Comfort Club"
# Quoted work per trade: (name, summary, sku lines as (sku, description, type, qty, rate, cost))
ESTIMATES = {
    "HVAC": (
        "Furnace replacement — 96% AFUE",
        "Replace the 22-year-old furnace with a 96% AFUE two-stage unit, new flue and thermostat.",
        [
            ("FURN-96-2ST", "96% AFUE two-stage gas furnace, installed", "Equipment", 1, 4850.0, 2300.0),
            ("TSTAT-SMART", "Smart thermostat", "Material", 1, 289.0, 110.0),
            ("FLUE-PVC", "PVC flue and condensate kit", "Material", 1, 340.0, 95.0),
        ],
    ),
    "Plumbing": (
        "Tankless water heater upgrade",
        "Replace the 50-gallon tank with a tankless unit; gas line and venting included.",
        [
            ("WH-TANKLESS", "Tankless water heater, installed", "Equipment", 1, 3650.0, 1500.0),
            ("GAS-LINE", "Gas line upsizing", "Service", 1, 450.0, 60.0),
        ],
    ),
    "Electrical": (
        "200 A panel upgrade",
        "Replace the 100 A panel with a 200 A panel and an EV-charger circuit.",
        [("PANEL-200", "200 A main panel, installed", "Equipment", 1, 3200.0, 1200.0)],
    ),
}


def seed_revenue(t: SandboxTenant, seed: int, anchor: datetime) -> None:
    rng = random.Random(seed * 7919 + 15)
    created = anchor - timedelta(days=3 * 365)
    types = _recurring_service_types(t, created)
    _membership_types(t, created, types)
    _events(t, anchor, types)
    _estimates(t, rng, anchor)
    _unpaid_invoice(t)
    provider = BookingProvider(id=t.new_id("booking_provider"), name=BOOKING_PROVIDER_NAME)
    t.booking_providers[provider.id] = provider
    _website_bookings(t, anchor)


def _website_bookings(t: SandboxTenant, anchor: datetime) -> None:
    """Another provider's inbox (the website's scheduler): a new request and one the office dismissed."""
    website = BookingProvider(id=t.new_id("booking_provider"), name="Website Scheduler")
    t.booking_providers[website.id] = website
    region_zip = next(z for z in t.zones.values() if z.active).zips[0]
    for status, hours, summary in (
        ("New", 3, "Water heater making a rumbling noise"),
        ("Dismissed", 50, "Wants a quote for a whole-house generator"),
    ):
        made = anchor - timedelta(hours=hours)
        booking = CrmBooking(
            id=t.new_id("booking"),
            booking_provider_id=website.id,
            source="Website",
            name="Dana Flores" if status == "New" else "Chris Patel",
            address=Address("2100 S Josephine St", "Denver", "CO", region_zip),
            customer_type="Residential",
            start=made + timedelta(days=2),
            summary=summary,
            external_id=f"web-{hours}",
            is_first_time_client=True,
            created_on=made,
            modified_on=made,
            campaign_id=t.campaign_named("Website").id,
            status=status,
            contacts=[("MobilePhone", f"30355501{60 + hours % 40:02d}", None)],
            dismissing_reason_id=1_000_001 if status == "Dismissed" else None,
        )
        t.bookings[booking.id] = booking


def _recurring_service_types(t: SandboxTenant, created: datetime) -> list[RecurringServiceType]:
    hvac = t.business_unit_named("HVAC").id
    maintenance = t.job_type_named("HVAC Maintenance").id
    made = []
    for name, months, summary in (
        ("AC Tune-Up", ["April"], "Club AC tune-up: clean coils, check refrigerant and capacitor."),
        ("Furnace Tune-Up", ["October"], "Club furnace tune-up: burners, igniter, CO test."),
    ):
        kind = RecurringServiceType(
            id=t.new_id("recurring_service_type"),
            name=name,
            recurrence_months=months,
            business_unit_id=hvac,
            job_type_id=maintenance,
            job_summary=summary,
            created_on=created,
            modified_on=created,
            priority="Low",
        )
        t.recurring_service_types[kind.id] = kind
        made.append(kind)
    return made


def _membership_types(t: SandboxTenant, created: datetime, services: list[RecurringServiceType]) -> None:
    """The club the seeded members hold (its id is theirs) and a plumbing plan on offer."""
    held = next((m.membership_type_id for m in t.memberships.values()), None)
    club_id = held or t.new_id("membership_type")
    club = MembershipType(
        id=club_id,
        name=CLUB,
        display_name="Peak Comfort Club",
        discount=15.0,
        billing=[(12, "Annual", 199.0, 199.0, 189.0), (12, "Monthly", 0.0, 18.0, 18.0)],
        unit_discounts=[],
        recurring_service_type_ids=[s.id for s in services],
        created_on=created,
        modified_on=created,
    )
    plumbing = MembershipType(
        id=t.new_id("membership_type"),
        name="Peak Plumbing Protection",
        display_name="Plumbing Protection Plan",
        discount=10.0,
        billing=[(12, "Annual", 129.0, 129.0, 129.0)],
        unit_discounts=[(t.business_unit_named("Plumbing").id, 10.0)],
        recurring_service_type_ids=[],
        created_on=created,
        modified_on=created,
    )
    retired = MembershipType(
        id=t.new_id("membership_type"),
        name="Legacy Comfort Plan",
        discount=5.0,
        billing=[(12, "Annual", 99.0, 99.0, 99.0)],
        unit_discounts=[],
        recurring_service_type_ids=[],
        created_on=created,
        modified_on=created,
        active=False,  # no longer sold: never offered
    )
    for kind in (club, plumbing, retired):
        t.membership_types[kind.id] = kind


def _events(t: SandboxTenant, anchor: datetime, services: list[RecurringServiceType]) -> None:
    """Each active member: the first tune-up due within the next month, the other one half a year out."""
    due_soon, later = services
    members = sorted(
        (m for m in t.memberships.values() if m.status == "Active" and m.location_id), key=lambda m: m.id
    )
    for index, membership in enumerate(members):
        assert membership.location_id is not None
        service_id = t.new_id("recurring_service")
        for kind, offset in ((due_soon, 6 + (index * 3) % 20), (later, 190)):
            event = RecurringServiceEvent(
                id=t.new_id("recurring_service_event"),
                location_recurring_service_id=service_id,
                location_recurring_service_name=kind.name,
                location_id=membership.location_id,
                membership_id=membership.id,
                membership_name=CLUB,
                status="NotAttempted",
                date=(anchor + timedelta(days=offset)).replace(hour=12),
                created_on=membership.created_on,
                modified_on=membership.created_on,
                created_by_id=t.api_user_id,
            )
            t.recurring_service_events[event.id] = event


def _estimates(t: SandboxTenant, rng: random.Random, anchor: datetime) -> None:
    """Open estimates for Priya Raman and five seeded customers with a visit behind them; a sold and a
    dismissed one for contrast."""
    with_visits = sorted(
        {j.customer_id for j in t.jobs.values() if j.status == "Completed"} - {_named(t, "Gloria Pruitt").id}
    )
    chosen = [_named(t, "Priya Raman").id]
    chosen += rng.sample([c for c in with_visits if c not in chosen], k=7)
    for index, customer_id in enumerate(chosen):
        customer = t.customers[customer_id]
        jobs = sorted(
            (j for j in t.jobs.values() if j.customer_id == customer_id and j.status == "Completed"),
            key=lambda j: j.created_on,
        )
        job = jobs[-1] if jobs else None
        location = t.customer_locations(customer_id)[0]
        unit_id = job.business_unit_id if job else t.business_unit_named("HVAC").id
        trade = t.business_units[unit_id].trade[1]
        name, summary, lines = ESTIMATES.get(trade, ESTIMATES["HVAC"])
        made = anchor - timedelta(days=1 + rng.randint(0, 9), hours=rng.randint(0, 6))
        status = "Open" if index < 6 else ("Sold" if index == 6 else "Dismissed")
        technician = t.technician_named("Mike Brennan") if trade == "HVAC" else None
        sold_by = (
            technician.id
            if technician
            else next((x.id for x in t.technicians.values() if x.business_unit_id == unit_id), None)
        )
        estimate = Estimate(
            id=t.new_id("estimate"),
            job_id=job.id if job else None,
            location_id=location.id,
            customer_id=customer.id,
            business_unit_id=unit_id,
            name=name,
            job_number=job.job_number if job else None,
            status=status,
            summary=summary,
            created_on=made,
            modified_on=made,
            tax=round(sum(q * r for _, _, k, q, r, _ in lines if k != "Service") * 0.0815, 2),
            sold_on=made + timedelta(days=1) if status == "Sold" else None,
            sold_by=sold_by,
        )
        for sku, description, kind, qty, rate, cost in lines:
            estimate.items.append(
                EstimateItem(
                    id=t.new_id("estimate_item"),
                    sku_id=t.new_id("sku"),
                    sku_name=sku,
                    sku_type=kind,
                    description=description,
                    qty=float(qty),
                    unit_rate=rate,
                    unit_cost=cost,
                    created_on=made,
                    modified_on=made,
                )
            )
        t.estimates[estimate.id] = estimate


def _unpaid_invoice(t: SandboxTenant) -> None:
    """Priya Raman's latest invoice is part paid (a balance to read back); Jordan Avery's too if she has
    none."""
    for name in ("Priya Raman", "Jordan Avery"):
        customer = _named(t, name)
        invoices = sorted(
            (i for i in t.invoices.values() if i.customer_id == customer.id and i.total > 0),
            key=lambda i: i.id,
        )
        if invoices:
            invoice = invoices[-1]
            paid = round(min(50.0, invoice.total / 2), 2)
            before = invoice.balance
            invoice.amount_paid, invoice.paid_on = paid, None
            customer.balance = round(customer.balance - before + invoice.balance, 2)
            return
    raise RuntimeError("no invoice to leave unpaid")  # pragma: no cover - the seed always has one


def _named(t: SandboxTenant, name: str) -> Customer:
    return next(c for c in t.customers.values() if c.name == name)
