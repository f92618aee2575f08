"""After the booking: installed equipment, telecom calls (v3), technician ratings, and
the export feeds of jobs, appointments and appointment assignments."""

from __future__ import annotations

from .. import filters
from ..bodies import Body
from ..entities import TechnicianRating
from ..exports import export_feed
from ..paging import ListOptions, paged
from ..problems import ProblemError, bad_request
from ..routing import Call, Router, referenced
from ..state import phone_matches
from ..views import dispatch as dispatch_views
from ..views import jpm as jpm_views
from ..views import lifecycle as v

router = Router()
EQS = "/equipmentsystems/v2/tenant/{tenant}"
TLC = "/telecom/v3/tenant/{tenant}"
CSI = "/customer-interactions/v2/tenant/{tenant}"
JPM = "/jpm/v2/tenant/{tenant}"
DIS = "/dispatch/v2/tenant/{tenant}"
RATINGS = ListOptions(ids=False)


# -- equipment systems ---------------------------------------------------------------------------------
@router.get(f"{EQS}/installed-equipment")
async def list_installed_equipment(call: Call) -> dict:
    q = call.query
    rows = filters.apply(
        call.tenant.installed_equipment.values(),
        filters.in_id_lists(q, {"locationIds": "location_id"}),
    )
    return paged(q, rows, v.installed_equipment)


# -- telecom (v3) --------------------------------------------------------------------------------------
@router.get(
    f"{TLC}/calls",
    refuses=(
        "createdAfter", "modifiedAfter", "campaignId", "agentId", "minDuration", "phoneNumberCalled",
        "agentName", "agentIsExternal", "agentExternalId", "sid", "tag",
    ),
)  # fmt: skip
async def list_calls(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    caller = q.str("callerPhoneNumber")
    rows = filters.apply(
        tenant.telecom_calls.values(),
        [(lambda c: phone_matches([c.from_number], caller)) if caller else None],
    )
    return paged(q, rows, lambda c: v.call(c, tenant))


# -- customer interactions: technician ratings ----------------------------------------------------------
class RatingIn(Body):
    technicianId: int
    jobId: int
    rating: float


@router.get(f"{CSI}/technician-ratings")
async def list_ratings(call: Call) -> dict:
    q = call.query
    rows = filters.apply(
        call.tenant.technician_ratings.values(),
        filters.equal_ints(q, {"technicianId": "technician_id", "jobId": "job_id"}),
    )
    return paged(q, rows, v.technician_rating, RATINGS)


@router.post(f"{CSI}/technician-ratings")
async def rate_technician(call: Call) -> dict:
    """Add a rating for the technician on the job, or update the one already there (the document's
    words): one rating per (technician, job)."""
    tenant = call.tenant
    body = await call.body(RatingIn)
    technician = referenced(tenant.technicians, body.technicianId, "technicianId", "Technician")
    job = referenced(tenant.jobs, body.jobId, "jobId", "Job")
    if not 0 <= body.rating <= 5:
        raise bad_request("rating", "The rating must be between 0 and 5.")
    if not any(a.technician_id == technician.id and a.job_id == job.id for a in tenant.assignments.values()):
        message = f"Technician {technician.id} did not work on job {job.id}."
        raise ProblemError(400, message, {"technicianId": [message]})
    now = tenant.now()
    for existing in tenant.technician_ratings.values():
        if existing.technician_id == technician.id and existing.job_id == job.id:
            existing.rating, existing.modified_on, existing.active = body.rating, now, True
            return v.technician_rating(existing)
    rating = TechnicianRating(
        tenant.new_id("technician_rating"), technician.id, job.id, body.rating, now, now
    )
    tenant.technician_ratings[rating.id] = rating
    return v.technician_rating(rating)


# -- export feeds ---------------------------------------------------------------------------------------
@router.get(f"{JPM}/export/jobs")
async def export_jobs(call: Call) -> dict:
    tenant = call.tenant
    # The export's job carries ``active`` besides the fields of GET jobs.
    return export_feed(
        call.query, tenant.jobs.values(), lambda j: {**jpm_views.job(j, tenant), "active": j.active}
    )


@router.get(f"{JPM}/export/appointments")
async def export_appointments(call: Call) -> dict:
    return export_feed(call.query, call.tenant.appointments.values(), jpm_views.appointment, has_active=True)


@router.get(f"{DIS}/export/appointment-assignments")
async def export_assignments(call: Call) -> dict:
    tenant = call.tenant
    return export_feed(
        call.query,
        tenant.assignments.values(),
        lambda a: dispatch_views.assignment(a, tenant),
        has_active=True,
    )
