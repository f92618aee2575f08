"""Every request the client sends, and every answer it parses, checked against ServiceTitan's documents.

The client talks to the in-process sandbox through a recording transport that validates both sides of
each exchange, so a wrong path, parameter or body in the client fails here, not in production.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from st_mcp.sandbox import SandboxClock, SandboxConfig, create_sandbox_app
from st_mcp.servicetitan import Endpoints, ServiceTitanClient
from st_mcp.servicetitan.models.bookings import BookingAddressInput, CreateBookingRequest
from st_mcp.servicetitan.models.common import AddressInput, NoteInput
from st_mcp.servicetitan.models.crm import (
    ContactInput,
    CreateCustomerRequest,
    CreateLeadRequest,
    CreateLocationRequest,
    DismissLeadRequest,
    LeadFollowUpRequest,
    LocationInput,
)
from st_mcp.servicetitan.models.dispatch import AssignTechniciansRequest, CapacityRequest
from st_mcp.servicetitan.models.jpm import (
    AppointmentInput,
    CancelJobRequest,
    CreateJobRequest,
    RescheduleAppointmentRequest,
    UpdateJobRequest,
)
from st_mcp.servicetitan.models.lifecycle import TechnicianRatingRequest
from st_mcp.servicetitan.models.tasks import CreateTaskRequest
from st_mcp.servicetitan.resources._base import ResourceGroup

from .contract import ContractRecordingTransport, ServiceTitanContract

pytestmark = pytest.mark.anyio

BASE = "http://sandbox.test"
APP_GUID = "0f6b1a52-3d1c-4a57-9d0e-5c2f7a1e8b11"
# A Tuesday, 10:30 in Denver: some appointments are dispatched, so technician tracking answers.
NOW = datetime(2026, 5, 5, 16, 30, tzinfo=UTC)


@pytest.fixture
async def recorded(
    contract: ServiceTitanContract,
) -> AsyncIterator[tuple[ServiceTitanClient, ContractRecordingTransport]]:
    app = create_sandbox_app(SandboxConfig(clock=SandboxClock(fixed=NOW)))
    transport = ContractRecordingTransport(httpx.ASGITransport(app=app), contract, strict=True)
    client = ServiceTitanClient(
        tenant_id=app.state.sandbox.tenant_id,
        client_id="cid.conformance",
        client_secret="cs1.conformance",
        app_key="ak1.conformance",
        endpoints=Endpoints(BASE, f"{BASE}/connect/token"),
        transport=transport,
    )
    async with client:
        yield client, transport


def _public_methods(group: ResourceGroup) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(type(group), inspect.isfunction)
        if not name.startswith("_")
    }


async def test_every_client_operation_conforms(
    recorded: tuple[ServiceTitanClient, ContractRecordingTransport],
) -> None:
    st, transport = recorded
    called: set[str] = set()

    def mark(group: str, *names: str) -> None:
        called.update(f"{group}.{name}" for name in names)

    # Reference data
    units = await st.settings.list_business_units(active="True")
    hvac = next(u for u in units.data if u.name == "HVAC")
    await st.settings.get_business_unit(hvac.id)
    technicians = await st.settings.list_technicians(active="Any")
    await st.settings.get_technician(technicians.data[0].id)
    tag_types = await st.settings.list_tag_types()
    mark("settings", "list_business_units", "get_business_unit", "list_technicians", "get_technician")
    mark("settings", "list_tag_types")

    job_types = await st.jpm.list_job_types(active="True")
    heating = next(t for t in job_types.data if t.name == "Heating Repair")
    await st.jpm.get_job_type(heating.id)
    assert [t.id async for t in st.jpm.iter_job_types()]
    reasons = await st.jpm.list_job_cancel_reasons()
    mark("jpm", "list_job_types", "get_job_type", "iter_job_types", "list_job_cancel_reasons")

    campaigns = await st.marketing.list_campaigns(name="virtual")
    await st.marketing.get_campaign(campaigns.data[0].id)
    mark("marketing", "list_campaigns", "get_campaign")

    zones = await st.dispatch.list_zones(active="True")
    await st.dispatch.get_zone(zones.data[0].id)
    await st.dispatch.list_arrival_windows()
    await st.dispatch.business_hours()
    now = NOW
    shifts = await st.dispatch.list_technician_shifts(
        starts_on_or_after=now, ends_on_or_before=now + timedelta(days=3)
    )
    assert shifts.data
    mark(
        "dispatch",
        "list_zones",
        "get_zone",
        "list_arrival_windows",
        "business_hours",
        "list_technician_shifts",
    )

    # Customers, locations, contacts
    customers = await st.crm.list_customers(phone="303-555-0142", include_total=True)
    jordan = customers.data[0]
    await st.crm.get_customer(jordan.id)
    assert [c.id async for c in st.crm.iter_customers(name="Avery")]
    await st.crm.list_customer_contacts(jordan.id)
    await st.crm.list_contacts_of_customers([jordan.id])
    locations = await st.crm.list_locations(customer_id=jordan.id)
    await st.crm.get_location(locations.data[0].id)
    await st.crm.list_location_contacts(locations.data[0].id)
    await st.crm.create_customer_note(jordan.id, NoteInput(text="Called about the furnace"))
    address = AddressInput(street="1420 Vine St", city="Denver", state="CO", zip="80206")
    created = await st.crm.create_customer(
        CreateCustomerRequest(
            name="Casey Newcomb",
            address=address,
            locations=[
                LocationInput(
                    name="Home",
                    address=address,
                    contacts=[ContactInput(type="MobilePhone", value="7205550199")],
                )
            ],
        )
    )
    await st.crm.create_customer_contact(created.id, ContactInput(type="Email", value="casey@example.com"))
    second = AddressInput(street="88 Pearl St", city="Boulder", state="CO", zip="80302")
    await st.crm.create_location(CreateLocationRequest(customerId=created.id, name="Rental", address=second))
    mark("crm", "list_customers", "get_customer", "iter_customers", "list_customer_contacts")
    mark("crm", "list_contacts_of_customers", "list_locations", "get_location", "list_location_contacts")
    mark("crm", "create_customer_note", "create_customer", "create_customer_contact", "create_location")

    # Leads
    open_leads = await st.crm.list_leads(status="Open", created_on_or_after=now - timedelta(days=2))
    assert [lead.id async for lead in st.crm.iter_leads(status="Open")]
    lead = await st.crm.create_lead(
        CreateLeadRequest(campaignId=campaigns.data[0].id, summary="No heat", leadPhone="7205550199")
    )
    await st.crm.get_lead(lead.id)
    await st.crm.create_lead_follow_up(
        lead.id, LeadFollowUpRequest(followUpDate=now + timedelta(hours=1), text="Escalated")
    )
    await st.crm.create_lead_note(lead.id, NoteInput(text="Asked for a person"))
    await st.crm.dismiss_lead(open_leads.data[0].id, DismissLeadRequest(dismissingReasonId=1))
    mark("crm", "list_leads", "iter_leads", "create_lead", "get_lead", "create_lead_follow_up")
    mark("crm", "create_lead_note", "dismiss_lead")

    # Capacity, booking, assignment, reschedule, cancel
    capacity = await st.dispatch.capacity(_capacity(heating.id, hvac.id, days=5))
    open_windows = [a for a in capacity.availabilities if a.isAvailable]
    window, later = open_windows[0], open_windows[-1]
    job = await st.jpm.create_job(
        CreateJobRequest(
            customerId=created.id,
            locationId=created.locations[0].id,
            businessUnitId=hvac.id,
            jobTypeId=heating.id,
            priority="Normal",
            campaignId=campaigns.data[0].id,
            appointments=[
                AppointmentInput(
                    start=window.startUtc,
                    end=window.endUtc,
                    arrivalWindowStart=window.startUtc,
                    arrivalWindowEnd=window.endUtc,
                )
            ],
            summary="No heat since last night",
            tagTypeIds=[tag_types.data[0].id],
            externalData={"applicationGuid": APP_GUID, "externalData": [{"key": "booking", "value": "k-1"}]},
        )
    )
    await st.jpm.get_job(job.id, external_data_application_guid=APP_GUID)
    found = await st.jpm.list_jobs(
        external_data_application_guid=APP_GUID, external_data_key="booking", external_data_values=["k-1"]
    )
    assert [j.id for j in found.data] == [job.id]
    await st.jpm.list_jobs(customer_id=created.id, job_status="Scheduled", appointment_starts_on_or_after=now)
    await st.jpm.update_job(job.id, UpdateJobRequest(summary="No heat; thermostat blank"))
    await st.jpm.create_job_note(job.id, NoteInput(text="Booked by the virtual agent"))
    appointments = await st.jpm.list_appointments(job_id=job.id)
    appointment = await st.jpm.get_appointment(appointments.data[0].id)
    free_tech = next(t for t in window.technicians if t.status == "Available" and t.hasRequiredSkills)
    assign = AssignTechniciansRequest(jobAppointmentId=appointment.id, technicianIds=[free_tech.id])
    await st.dispatch.assign_technicians(assign)
    await st.dispatch.list_appointment_assignments(job_id=job.id)
    await st.dispatch.unassign_technicians(assign)
    await st.jpm.reschedule_appointment(
        appointment.id, RescheduleAppointmentRequest(start=later.startUtc, end=later.endUtc)
    )
    await st.jpm.cancel_job(job.id, CancelJobRequest(reasonId=reasons.data[0].id, memo="Customer fixed it"))
    mark("dispatch", "capacity", "assign_technicians", "list_appointment_assignments", "unassign_technicians")
    mark("jpm", "create_job", "get_job", "list_jobs", "update_job", "create_job_note", "list_appointments")
    mark("jpm", "get_appointment", "reschedule_appointment", "cancel_job")

    # Tracking: the sandbox answers only for a dispatched appointment with that technician assigned.
    dispatched = (await st.jpm.list_appointments(status="Dispatched")).data[0]
    assignments = await st.dispatch.list_appointment_assignments(appointment_ids=[dispatched.id])
    tracking = await st.dispatch.technician_tracking(assignments.data[0].technicianId, dispatched.id)
    assert tracking.technicianTrackingUrl.startswith("http")
    mark("dispatch", "technician_tracking")

    # Memberships, invoices, tasks
    memberships = await st.memberships.list_memberships(customer_ids=[jordan.id])
    await st.memberships.get_membership(memberships.data[0].id)
    await st.accounting.list_invoices(customer_id=jordan.id)
    data = await st.tasks.client_data()
    task = await st.tasks.create_task(
        CreateTaskRequest(
            reportedById=data.employees[0].id,
            assignedToId=data.employees[-1].id,
            name="Escalated (Human Request): Casey Newcomb",
            businessUnitId=hvac.id,
            employeeTaskTypeId=data.taskTypes[0].id,
            employeeTaskSourceId=data.taskSources[0].id,
            reportedDate=now,
            priority="High",
            customerId=created.id,
            description="Caller asked for a person.",
        )
    )
    await st.tasks.get_task(task.id)
    await st.tasks.list_tasks(customer_id=created.id)
    mark("memberships", "list_memberships", "get_membership")
    mark("accounting", "list_invoices")
    mark("tasks", "client_data", "create_task", "get_task", "list_tasks")

    # Revenue: what a membership includes, a tune-up marked done, estimates, a provider's bookings
    kinds = await st.memberships.list_membership_types(active="Any")
    assert kinds.data and kinds.data[0].durationBilling is not None
    await st.memberships.list_recurring_service_types()
    events = await st.memberships.list_recurring_service_events(location_id=locations.data[0].id)
    due = next(e for e in events.data if e.status == "NotAttempted")
    assert [e async for e in st.memberships.iter_recurring_service_events(status="NotAttempted")]
    done = (await st.jpm.list_jobs(customer_id=jordan.id)).data[0]
    await st.memberships.mark_event_complete(due.id, done.id)
    estimates = await st.sales.list_estimates(status="Open")
    await st.sales.get_estimate(estimates.data[0].id)
    assert [
        e async for e in st.sales.iter_estimates(status="Open", created_on_or_after=NOW - timedelta(days=30))
    ]
    provider = 14100001  # the seeded booking provider (ServiceTitan has no operation that lists them)
    booking = await st.crm.create_booking(
        provider,
        CreateBookingRequest(
            source="st-mcp", name="Jordan Avery", summary="Tune-up", isFirstTimeClient=False,
            externalId="conformance-1", start=later.startUtc, priority="Low",
            address=BookingAddressInput(street="1420 S Pearl St", city="Denver", state="CO", zip="80210"),
        ),
    )  # fmt: skip
    await st.crm.get_booking(provider, booking.id)
    assert [b.id for b in (await st.crm.find_bookings(provider, external_id="conformance-1")).data] == [
        booking.id
    ]
    mark("memberships", "list_membership_types", "list_recurring_service_types")
    mark(
        "memberships", "list_recurring_service_events", "iter_recurring_service_events", "mark_event_complete"
    )
    mark("sales", "list_estimates", "get_estimate", "iter_estimates")
    mark("crm", "create_booking", "get_booking", "find_bookings")
    # After the booking: notes, equipment, calls (telecom v3), ratings, the export feeds
    await st.jpm.list_job_notes(job.id)
    mark("jpm", "list_job_notes")
    await st.equipment.list_installed_equipment(location_ids=[locations.data[0].id])
    await st.telecom.list_calls(caller_phone_number="3035550142")
    rated = (await st.dispatch.list_appointment_assignments(appointment_ids=[dispatched.id])).data[0]
    await st.customer_interactions.rate_technician(
        TechnicianRatingRequest(technicianId=rated.technicianId, jobId=rated.jobId, rating=5)
    )
    await st.customer_interactions.list_ratings(job_id=rated.jobId)
    for feed in (
        st.exports.jobs,
        st.exports.appointments,
        st.exports.appointment_assignments,
        st.exports.leads,
    ):
        first = await feed("2026-01-01")
        await feed(first.continueFrom)
    mark("equipment", "list_installed_equipment")
    mark("telecom", "list_calls")
    mark("customer_interactions", "rate_technician", "list_ratings")
    mark("exports", "jobs", "appointments", "appointment_assignments", "leads")

    transport.assert_no_violations()
    assert len(transport.exchanges) > 50

    every = {
        f"{attr}.{name}"
        for attr in (
            "crm",
            "jpm",
            "dispatch",
            "settings",
            "marketing",
            "memberships",
            "accounting",
            "tasks",
            "equipment",
            "telecom",
            "sales",
            "customer_interactions",
            "exports",
        )
        for name in _public_methods(getattr(st, attr))
    }
    assert every - called == set(), "client operations not exercised against the contract"


def _capacity(job_type_id: int, unit_id: int, *, days: int) -> CapacityRequest:
    return CapacityRequest(
        startsOnOrAfter=NOW,
        endsOnOrBefore=NOW + timedelta(days=days),
        businessUnitIds=[unit_id],
        jobTypeId=job_type_id,
        skillBasedAvailability=True,
    )
