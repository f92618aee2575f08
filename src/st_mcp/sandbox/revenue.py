"""Revenue-side mutations of the tenant that both routes and tests use: marking a recurring service event
done by a job, and a CSR converting a CRM booking into a job (which ServiceTitan does in its booking
inbox, not through the API — so the sandbox offers it as an admin knob and a test helper)."""

from __future__ import annotations

from datetime import timedelta

from .entities import CrmBooking, Job, RecurringServiceEvent
from .state import SandboxTenant


def mark_event_complete(tenant: SandboxTenant, event: RecurringServiceEvent, job_id: int) -> None:
    """ServiceTitan's "mark complete": the event is Won and carries the job that fulfils it."""
    event.status, event.job_id, event.modified_on = "Won", job_id, tenant.now()


def convert_booking(tenant: SandboxTenant, booking: CrmBooking, customer_id: int, location_id: int) -> Job:
    """What a CSR does with a booking: book the job (its window, type and unit), link it, mark Converted."""
    if booking.status != "New":
        raise ValueError(f"booking {booking.id} is {booking.status}, not New")
    job_type = (
        tenant.job_types[booking.job_type_id]
        if booking.job_type_id
        else next(iter(tenant.job_types.values()))
    )
    unit_id = booking.business_unit_id or job_type.business_unit_ids[0]
    campaign_id = booking.campaign_id or next(iter(tenant.campaigns))
    now = tenant.now()
    job = Job(
        id=tenant.new_id("job"),
        job_number=tenant.new_job_number(),
        customer_id=customer_id,
        location_id=location_id,
        business_unit_id=unit_id,
        job_type_id=job_type.id,
        priority=booking.priority,
        campaign_id=campaign_id,
        status="Scheduled",
        created_on=now,
        modified_on=now,
        created_by_id=tenant.api_user_id,
        summary=booking.summary,
        booking_id=booking.id,
    )
    tenant.add_job(job)
    start = booking.start or now + timedelta(days=1)
    tenant.add_appointment(job, start, start + timedelta(hours=2), (start, start + timedelta(hours=2)))
    booking.status, booking.job_id, booking.modified_on = "Converted", job.id, now
    return job
