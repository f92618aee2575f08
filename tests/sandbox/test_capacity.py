"""Capacity computed from shifts, skills, arrival windows and bookings — and booking really takes it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx
import pytest

from st_mcp.sandbox import SandboxClock, SandboxTenant
from st_mcp.sandbox.times import BUSINESS_TZ

from .conftest import api_path, auth_headers, errors_of

pytestmark = pytest.mark.anyio

TUESDAY = date(2026, 3, 10)
CAPACITY = api_path("dispatch", "capacity")


def local_day(day: date) -> tuple[str, str]:
    start = datetime(day.year, day.month, day.day, tzinfo=BUSINESS_TZ)
    return start.isoformat(), (start + timedelta(days=1)).isoformat()


def clear_day(tenant: SandboxTenant, day: date) -> None:
    """Cancel the seeded bookings of one local day, so the numbers below do not depend on the seed."""
    reason = next(iter(tenant.cancel_reasons))
    for job in list(tenant.jobs.values()):
        days = {a.start.astimezone(BUSINESS_TZ).date() for a in tenant.job_appointments(job)}
        if day in days and job.status not in ("Canceled", "Completed"):
            tenant.cancel_job(job, reason, "cleared for the test")


async def capacity(api: httpx.AsyncClient, day: date, **body: object) -> list[dict]:
    start, end = local_day(day)
    response = await api.post(CAPACITY, json={"startsOnOrAfter": start, "endsOnOrBefore": end, **body})
    assert response.status_code == 200, response.text
    return response.json()["availabilities"]


def window(availabilities: list[dict], start_utc: str) -> dict:
    return next(a for a in availabilities if a["startUtc"] == start_utc)


def statuses(availability: dict) -> dict[str, str]:
    return {t["name"]: t["status"] for t in availability["technicians"]}


async def book(api: httpx.AsyncClient, tenant: SandboxTenant, start: str, technician_ids: list[int]) -> int:
    jordan = tenant.customers_by_phone("3035550142")[0]
    appointment_start = datetime.fromisoformat(start)
    end = (appointment_start + timedelta(hours=2)).isoformat()
    body = {
        "customerId": jordan.id,
        "locationId": tenant.customer_locations(jordan.id)[0].id,
        "businessUnitId": tenant.business_unit_named("HVAC").id,
        "jobTypeId": tenant.job_type_named("Heating Repair").id,
        "priority": "Normal",
        "campaignId": tenant.campaign_named("Virtual Agent").id,
        "appointments": [
            {
                "start": start,
                "end": end,
                "arrivalWindowStart": start,
                "arrivalWindowEnd": end,
                "technicianIds": technician_ids,
            }
        ],
    }
    response = await api.post(api_path("jpm", "jobs"), json=body)
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def cancel(api: httpx.AsyncClient, tenant: SandboxTenant, job_id: int) -> None:
    body = {"reasonId": next(iter(tenant.cancel_reasons)), "memo": "Customer fixed it themselves"}
    assert (await api.put(api_path("jpm", f"jobs/{job_id}/cancel"), json=body)).status_code == 200


async def test_booking_takes_the_window_and_cancelling_gives_it_back(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    clear_day(tenant, TUESDAY)
    heating = {
        "businessUnitIds": [tenant.business_unit_named("HVAC").id],
        "jobTypeId": tenant.job_type_named("Heating Repair").id,
        "skillBasedAvailability": True,
    }
    ten_to_noon = "2026-03-10T16:00:00Z"  # 10:00–12:00 in Denver (MDT)
    before = await capacity(api, TUESDAY, **heating)
    slot = window(before, ten_to_noon)
    assert len(before) == 5  # five two-hour arrival windows
    assert (slot["totalAvailability"], slot["openAvailability"], slot["isAvailable"]) == (4.0, 4.0, True)
    assert statuses(slot) == {
        "Carlos Ortega": "Available",
        "Mike Brennan": "Available",
        "Tasha Reid": "Available",
    }

    mike = tenant.technician_named("Mike Brennan").id
    first = await book(api, tenant, ten_to_noon, [mike])
    slot = window(await capacity(api, TUESDAY, **heating), ten_to_noon)
    assert (slot["totalAvailability"], slot["openAvailability"], slot["isAvailable"]) == (4.0, 2.0, True)
    assert statuses(slot)["Mike Brennan"] == "Unavailable"
    assert slot["isExceedingIdealBookingPercentage"] is False

    # Booked without choosing a technician: it still takes the last skilled technician of the window.
    second = await book(api, tenant, ten_to_noon, [])
    after = await capacity(api, TUESDAY, **heating)
    slot = window(after, ten_to_noon)
    assert (slot["totalAvailability"], slot["openAvailability"], slot["isAvailable"]) == (4.0, 0.0, False)
    assert slot["isExceedingIdealBookingPercentage"] is True
    assert window(after, "2026-03-10T18:00:00Z")["openAvailability"] == 4.0  # the next window is untouched

    await cancel(api, tenant, first)
    assert window(await capacity(api, TUESDAY, **heating), ten_to_noon)["openAvailability"] == 2.0
    await cancel(api, tenant, second)
    restored = await capacity(api, TUESDAY, **heating)
    assert restored == before

    # Undoing a cancellation takes the window again.
    assert (await api.put(api_path("jpm", f"jobs/{first}/remove-cancellation"))).status_code == 200
    assert window(await capacity(api, TUESDAY, **heating), ten_to_noon)["openAvailability"] == 2.0


async def test_skills_decide_who_counts(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    clear_day(tenant, TUESDAY)
    hvac = [tenant.business_unit_named("HVAC").id]
    noon = "2026-03-10T18:00:00Z"
    heating = tenant.job_type_named("Heating Repair").id

    skilled = window(
        await capacity(api, TUESDAY, businessUnitIds=hvac, jobTypeId=heating, skillBasedAvailability=True),
        noon,
    )
    assert skilled["totalAvailability"] == 4.0
    assert {t["name"]: t["hasRequiredSkills"] for t in skilled["technicians"]} == {
        "Carlos Ortega": False,
        "Mike Brennan": True,
        "Tasha Reid": True,
    }
    anyone = window(
        await capacity(api, TUESDAY, businessUnitIds=hvac, jobTypeId=heating, skillBasedAvailability=False),
        noon,
    )
    assert anyone["totalAvailability"] == 6.0

    estimate = tenant.job_type_named("Furnace Install Estimate").id
    advisors = window(
        await capacity(api, TUESDAY, businessUnitIds=hvac, jobTypeId=estimate, skillBasedAvailability=True),
        noon,
    )
    assert advisors["totalAvailability"] == 2.0

    untyped = window(await capacity(api, TUESDAY, businessUnitIds=hvac, skillBasedAvailability=True), noon)
    assert untyped["totalAvailability"] == 6.0
    assert {t["hasRequiredSkills"] for t in untyped["technicians"]} == {None}


async def test_time_off_removes_the_technician(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    thursday = date(2026, 3, 12)  # Tasha Reid's vacation starts three days out
    hvac = [tenant.business_unit_named("HVAC").id]
    for availability in await capacity(api, thursday, businessUnitIds=hvac, skillBasedAvailability=False):
        assert {t["name"] for t in availability["technicians"]} == {"Carlos Ortega", "Mike Brennan"}


async def test_on_call_counts_only_for_emergencies_outside_business_hours(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    sunday, saturday = date(2026, 3, 15), date(2026, 3, 14)
    plumbing = [tenant.business_unit_named("Plumbing").id]
    emergency = tenant.job_type_named("Emergency Plumbing").id
    drains = tenant.job_type_named("Drain Cleaning").id

    on_call = await capacity(
        api, sunday, businessUnitIds=plumbing, jobTypeId=emergency, skillBasedAvailability=False
    )
    assert [a["totalAvailability"] for a in on_call] == [2.0] * 5
    routine = await capacity(
        api, sunday, businessUnitIds=plumbing, jobTypeId=drains, skillBasedAvailability=False
    )
    assert [a["totalAvailability"] for a in routine] == [0.0] * 5 and not any(
        a["isAvailable"] for a in routine
    )

    # Saturday: 08–14 are business hours (Saturday crew only); 14–18 are on-call territory.
    saturday_emergency = await capacity(
        api, saturday, businessUnitIds=plumbing, jobTypeId=emergency, skillBasedAvailability=False
    )
    on_call = [
        tenant.technicians[s.technician_id].name
        for s in tenant.shifts.values()
        if s.shift_type == "OnCall" and s.start.astimezone(BUSINESS_TZ).date() == saturday
    ]
    afternoon = window(saturday_emergency, "2026-03-14T20:00:00Z")
    assert [t["name"] for t in afternoon["technicians"]] == [
        name for name in on_call if name in {"Dave Kowalski", "Sam Patel"}
    ]


async def test_windows_that_ended_are_not_returned(api: httpx.AsyncClient, clock: SandboxClock) -> None:
    monday = date(2026, 3, 9)
    assert [a["start"][11:16] for a in await capacity(api, monday, skillBasedAvailability=False)] == [
        "08:00",
        "10:00",
        "12:00",
        "14:00",
        "16:00",
    ]
    clock.advance(61 * 60)  # 10:01 — the 08–10 window is over (and the first token has expired)
    api.headers.update(await auth_headers(api))
    assert [a["start"][11:16] for a in await capacity(api, monday, skillBasedAvailability=False)] == [
        "10:00",
        "12:00",
        "14:00",
        "16:00",
    ]


async def test_start_and_end_carry_local_wall_time_with_z(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    first = (await capacity(api, TUESDAY, skillBasedAvailability=False))[0]
    assert (first["start"], first["end"]) == ("2026-03-10T08:00:00Z", "2026-03-10T10:00:00Z")
    assert (first["startUtc"], first["endUtc"]) == ("2026-03-10T14:00:00Z", "2026-03-10T16:00:00Z")
    denver = {u.id for u in tenant.business_units.values() if u.active}
    assert set(first["businessUnitIds"]) == denver


async def test_capacity_validation(api: httpx.AsyncClient) -> None:
    start, end = local_day(TUESDAY)
    backwards = {"startsOnOrAfter": end, "endsOnOrBefore": start, "skillBasedAvailability": False}
    assert "endsOnOrBefore" in errors_of(await api.post(CAPACITY, json=backwards), 400)
    missing = {"startsOnOrAfter": start, "endsOnOrBefore": end}
    assert "skillBasedAvailability" in errors_of(await api.post(CAPACITY, json=missing), 400)
    unknown = dict(missing, skillBasedAvailability=True, jobTypeId=1)
    assert "jobTypeId" in errors_of(await api.post(CAPACITY, json=unknown), 400)
