"""The sandbox's revenue operations: what a membership includes, tune-ups due and marked complete by a
job, estimates by status and location, a booking provider's bookings, and the admin knob that converts a
booking into a job the way a CSR does in ServiceTitan's booking inbox."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from st_mcp.sandbox import SandboxTenant
from st_mcp.sandbox.revenue import convert_booking

from .conftest import MONDAY_9AM, api_path, errors_of, problem

pytestmark = pytest.mark.anyio


def booking_body(external_id: str, **extra: object) -> dict[str, object]:
    return {
        "source": "st-mcp",
        "name": "Jordan Avery",
        "summary": "Furnace blowing cold air",
        "isFirstTimeClient": False,
        "externalId": external_id,
        "start": "2026-03-10T16:00:00Z",
        **extra,
    }


def test_the_seed_has_what_a_revenue_conversation_needs(tenant: SandboxTenant) -> None:
    club_ids = {m.membership_type_id for m in tenant.memberships.values()}
    assert club_ids <= set(tenant.membership_types)  # the members' plan is a real type
    active_members = [m for m in tenant.memberships.values() if m.status == "Active"]
    soon = MONDAY_9AM + timedelta(days=31)
    for member in active_members:  # each has a tune-up due in the next month
        due = [e for e in tenant.recurring_service_events.values() if e.membership_id == member.id]
        assert any(MONDAY_9AM < e.date <= soon and e.status == "NotAttempted" for e in due)
    assert sum(e.status == "Open" for e in tenant.estimates.values()) == 6
    assert any(i.balance > 0 and i.amount_paid > 0 for i in tenant.invoices.values())  # a part-paid invoice
    providers = {p.name: p.id for p in tenant.booking_providers.values()}
    assert list(providers) == ["st-mcp Virtual Agent", "Website Scheduler"]
    inbox = [b for b in tenant.bookings.values() if b.booking_provider_id == providers["Website Scheduler"]]
    assert sorted(b.status for b in inbox) == ["Dismissed", "New"]
    assert not [
        b for b in tenant.bookings.values() if b.booking_provider_id == providers["st-mcp Virtual Agent"]
    ]


async def test_membership_types_include_billing_discounts_and_services_only_when_asked(
    api: httpx.AsyncClient,
) -> None:
    plain = (await api.get(api_path("memberships", "membership-types"))).json()["data"]
    assert {t["name"] for t in plain} == {"Peak Comfort Club", "Peak Plumbing Protection"}  # active only
    assert all(t["durationBilling"] is None and t["recurringServices"] is None for t in plain)
    full = (
        await api.get(
            api_path("memberships", "membership-types"),
            params={"includeDurationBilling": "true", "includeRecurringServices": "true", "active": "Any"},
        )
    ).json()["data"]
    assert len(full) == 3
    club = next(t for t in full if t["name"] == "Peak Comfort Club")
    assert [b["billingPrice"] for b in club["durationBilling"]] == [199.0, 18.0]
    assert len(club["recurringServices"]) == 2


async def test_mark_complete_links_the_job_and_refuses_a_job_elsewhere(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    event = next(e for e in tenant.recurring_service_events.values() if e.status == "NotAttempted")
    here = next(j for j in tenant.jobs.values() if j.location_id == event.location_id)
    elsewhere = next(j for j in tenant.jobs.values() if j.location_id != event.location_id)
    path = api_path("memberships", f"recurring-service-events/{event.id}/mark-complete")
    assert "jobId" in errors_of(await api.post(path, json={"jobId": elsewhere.id}), 400)
    assert event.status == "NotAttempted"
    done = await api.post(path, json={"jobId": here.id})
    assert done.json() == {"id": event.id} and (event.status, event.job_id) == ("Won", here.id)
    listed = await api.get(api_path("memberships", "recurring-service-events"), params={"jobId": here.id})
    assert [e["id"] for e in listed.json()["data"]] == [event.id]
    problem(await api.post(api_path("memberships", "recurring-service-events/1/mark-complete"), json={}), 404)


async def test_estimates_filter_by_status_and_location(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    open_ones = (await api.get(api_path("sales", "estimates"), params={"status": "Open"})).json()["data"]
    assert len(open_ones) == 6 and {e["status"]["name"] for e in open_ones} == {"Open"}
    first = open_ones[0]
    by_location = await api.get(api_path("sales", "estimates"), params={"locationId": first["locationId"]})
    assert first["id"] in [e["id"] for e in by_location.json()["data"]]
    seeded = tenant.estimates[first["id"]]
    assert first["subtotal"] == seeded.subtotal and first["tax"] == seeded.tax


async def test_bookings_are_per_provider_found_by_external_id_and_converted_by_a_csr(
    api: httpx.AsyncClient, http: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    provider = next(iter(tenant.booking_providers))
    path = api_path("crm", f"booking-provider/{provider}/bookings")
    created = (await api.post(path, json=booking_body("ext-1"))).json()
    assert (created["status"], created["jobId"], created["bookingProviderId"]) == ("New", None, provider)
    await api.post(path, json=booking_body("ext-2"))
    found = (await api.get(path, params={"externalId": "ext-1"})).json()["data"]
    assert [b["id"] for b in found] == [created["id"]]
    unknown = max(tenant.booking_providers) + 1
    problem(await api.get(api_path("crm", f"booking-provider/{unknown}/bookings")), 404)
    website = max(tenant.booking_providers)  # another provider's inbox is not ours to read
    theirs = next(b for b in tenant.bookings.values() if b.booking_provider_id == website)
    problem(await api.get(f"{path}/{theirs.id}"), 404)
    assert "externalId" in errors_of(await api.post(path, json=booking_body("")), 400)

    convert = f"/_sandbox/bookings/{created['id']}/convert"
    location = tenant.locations[10600001]
    assert (
        await http.post(convert, json={"customerId": 10300002, "locationId": location.id})
    ).status_code == 400
    jobs_before = len(tenant.jobs)
    answer = await http.post(convert, json={"customerId": location.customer_id, "locationId": location.id})
    assert answer.status_code == 200, answer.text
    job = tenant.jobs[answer.json()["jobId"]]
    assert len(tenant.jobs) == jobs_before + 1 and job.booking_id == created["id"]
    read = (await api.get(f"{path}/{created['id']}")).json()
    assert (read["status"], read["jobId"]) == ("Converted", job.id)
    assert (
        await http.post(convert, json={"customerId": location.customer_id, "locationId": location.id})
    ).status_code == 409


def test_convert_booking_books_the_requested_window(tenant: SandboxTenant) -> None:
    from st_mcp.sandbox.entities import CrmBooking

    start = MONDAY_9AM + timedelta(days=1)
    booking = CrmBooking(
        id=tenant.new_id("booking"), booking_provider_id=next(iter(tenant.booking_providers)), source="t",
        name="Jordan Avery", address=None, customer_type="Residential", start=start, summary="Tune-up",
        external_id="x", is_first_time_client=False, created_on=MONDAY_9AM, modified_on=MONDAY_9AM,
        job_type_id=tenant.job_type_named("HVAC Maintenance").id,
    )  # fmt: skip
    tenant.bookings[booking.id] = booking
    job = convert_booking(tenant, booking, 10300001, 10600001)
    (appointment,) = tenant.job_appointments(job)
    assert appointment.start == start and job.job_type_id == booking.job_type_id
    with pytest.raises(ValueError, match="Converted"):
        convert_booking(tenant, booking, 10300001, 10600001)
