"""``st-mcp demo``: a caller's booking walked through the ServiceTitan client on the sandbox tenant.

It shows what the agent tools are built on: a phone lookup, real capacity, a job created exactly as
``POST /jpm/v2/tenant/{t}/jobs`` requires, capacity going down for that window, and the job as the
sandbox now holds it — with the number of upstream requests each step made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from st_mcp.config import Settings
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.dispatch import CapacityAvailability, CapacityRequest
from st_mcp.servicetitan.models.jpm import AppointmentInput, CreateJobRequest
from st_mcp.upstream import connect_servicetitan

CALLER_PHONE = "(303) 555-0142"
JOB_TYPE = "Heating Repair"
LOCAL = ZoneInfo("America/Denver")


def _label(window: CapacityAvailability) -> str:
    start, end = window.startUtc.astimezone(LOCAL), window.endUtc.astimezone(LOCAL)
    first = f"{start:%-I}" if f"{start:%p}" == f"{end:%p}" else f"{start:%-I %p}"
    return f"{start:%a %b %d}, {first}–{end:%-I %p}"


def _step(title: str) -> None:
    print(f"\n── {title}")


async def _open_windows(
    st: ServiceTitanClient, job_type_id: int, unit_ids: list[int]
) -> list[CapacityAvailability]:
    now = datetime.now(LOCAL)
    capacity = await st.dispatch.capacity(
        CapacityRequest(
            startsOnOrAfter=now,
            endsOnOrBefore=now + timedelta(days=4),
            businessUnitIds=unit_ids,
            jobTypeId=job_type_id,
            skillBasedAvailability=True,
        )
    )
    return [window for window in capacity.availabilities if window.isAvailable]


def _open_technicians(window: CapacityAvailability) -> int:
    return sum(1 for tech in window.technicians if tech.status == "Available" and tech.hasRequiredSkills)


async def run_demo(settings: Settings) -> int:
    upstream = connect_servicetitan(settings.servicetitan)
    async with upstream.client as st:
        print(f"st-mcp demo — ServiceTitan tenant {st.tenant_id} ({settings.servicetitan.environment})")

        _step(f"Caller {CALLER_PHONE}: who is it?")
        with st.meter.measure() as calls:
            customer = (await st.crm.list_customers(phone=CALLER_PHONE)).data[0]
            location = (await st.crm.list_locations(customer_id=customer.id)).data[0]
        print(
            f"   {customer.name} (customer {customer.id}), {location.address.street}, {location.address.city}"
        )
        print(f"   [{calls.count} upstream requests, token fetch included]")

        _step(f"'{JOB_TYPE}': which windows can really take it?")
        with st.meter.measure() as calls:
            job_type = next(
                t for t in (await st.jpm.list_job_types(active="True")).data if t.name == JOB_TYPE
            )
            campaign = next(c for c in (await st.marketing.list_campaigns(name="Virtual Agent")).data)
            windows = await _open_windows(st, job_type.id, job_type.businessUnitIds)
        for window in windows[:3]:
            print(f"   {_label(window)}: skilled technicians free: {_open_technicians(window)}")
        print(f"   [{calls.count} upstream requests]")

        chosen = windows[0]
        _step(f"Book {_label(chosen)}")
        with st.meter.measure() as calls:
            job = await st.jpm.create_job(
                CreateJobRequest(
                    customerId=customer.id,
                    locationId=location.id,
                    businessUnitId=job_type.businessUnitIds[0],
                    jobTypeId=job_type.id,
                    priority="Normal",
                    campaignId=campaign.id,
                    appointments=[
                        AppointmentInput(
                            start=chosen.startUtc,
                            end=chosen.endUtc,
                            arrivalWindowStart=chosen.startUtc,
                            arrivalWindowEnd=chosen.endUtc,
                        )
                    ],
                    summary="Furnace blowing cold air since last night.",
                )
            )
        print(f"   job {job.jobNumber} (id {job.id}), appointment {job.firstAppointmentId}, {job.jobStatus}")
        print(f"   [{calls.count} upstream request — a create is never retried blindly]")

        _step("Capacity for that window now")
        now_open = await _open_windows(st, job_type.id, job_type.businessUnitIds)
        after = next((w for w in now_open if w.startUtc == chosen.startUtc), None)
        after_count = _open_technicians(after) if after else 0
        print(f"   {_label(chosen)}: skilled technicians free: {_open_technicians(chosen)} → {after_count}")

        _step("The job as ServiceTitan (the sandbox) holds it")
        held = await st.jpm.get_job(job.id)
        appointment = await st.jpm.get_appointment(held.firstAppointmentId)
        print(
            f"   job {held.jobNumber}: {held.jobStatus}, customer {held.customerId}, "
            f"campaign {held.campaignId}"
        )
        print(
            f"   appointment {appointment.id}: {appointment.start:%Y-%m-%d %H:%M}Z–{appointment.end:%H:%M}Z"
        )

        print(
            f"\n{st.meter.total_requests} upstream requests in all; "
            f"{st.http.tokens.fetch_count} token request (one per token lifetime)."
        )
    return 0
