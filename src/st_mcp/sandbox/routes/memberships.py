"""Memberships: customer maintenance-plan memberships."""

from __future__ import annotations

from .. import filters
from ..bodies import Body
from ..paging import STANDARD_SORT, ListOptions, paged
from ..problems import bad_request
from ..revenue import mark_event_complete
from ..routing import Call, Router, get_or_404, referenced
from ..views import business as v
from ..views import revenue as rv

router = Router()
MEM = "/memberships/v2/tenant/{tenant}"
STATUSES = ("Active", "Suspended", "Expired", "Canceled", "Deleted")
FREQUENCIES = ("OneTime", "Monthly", "EveryOtherMonth", "Quarterly", "BiAnnual", "Annual")


@router.get(f"{MEM}/memberships")
async def list_memberships(call: Call) -> dict:
    q = call.query
    rows = filters.apply(
        call.tenant.memberships.values(),
        [
            *filters.in_id_lists(q, {"customerIds": "customer_id"}),
            filters.enum_equals(q, "status", STATUSES, "status"),
            *filters.equal_ints(q, {"duration": "duration_months"}),
            filters.enum_equals(q, "billingFrequency", FREQUENCIES, "billing_frequency"),
        ],
    )
    return paged(q, rows, v.membership)


@router.get(f"{MEM}/memberships/{{id}}")
async def get_membership(call: Call) -> dict:
    return v.membership(get_or_404(call.tenant.memberships, call.path_id(), "Membership"))


# -- membership types, recurring service types and events (what a membership includes) --------------
RECURRENCE_TYPES = ("Weekly", "Monthly", "Seasonal", "Daily", "NthWeekdayOfMonth")
EVENT_STATUSES = ("NotAttempted", "Unreachable", "Contacted", "Won", "Dismissed")
EVENTS = ListOptions(active_default=None)
NAMED = ListOptions(sort_fields={**STANDARD_SORT, "Name": "name"})


@router.get(f"{MEM}/membership-types")
async def list_membership_types(call: Call) -> dict:
    q = call.query
    duration = q.int("duration")
    frequency = q.enum("billingFrequency", FREQUENCIES)
    include = _includes(call)
    rows = filters.apply(
        call.tenant.membership_types.values(),
        [
            (lambda m: any(d == duration for d, *_ in m.billing)) if duration is not None else None,
            (lambda m: any(f == frequency for _, f, *_ in m.billing)) if frequency else None,
        ],
    )
    return paged(q, rows, lambda m: rv.membership_type(m, **include))


@router.get(f"{MEM}/membership-types/{{id}}")
async def get_membership_type(call: Call) -> dict:
    found = get_or_404(call.tenant.membership_types, call.path_id(), "Membership type")
    return rv.membership_type(found, billing=True, discounts=True, services=True, tags=True)


def _includes(call: Call) -> dict[str, bool]:
    q = call.query
    return {
        "billing": bool(q.bool("includeDurationBilling")),
        "discounts": bool(q.bool("includeDiscounts")),
        "services": bool(q.bool("includeRecurringServices")),
        "tags": bool(q.bool("includeTags")),
    }


@router.get(f"{MEM}/recurring-service-types")
async def list_recurring_service_types(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    membership_type_id = q.int("membershipTypeId")
    recurrence = q.enum("recurrenceType", RECURRENCE_TYPES)
    duration = q.enum("durationType", ("Continuous", "NumberOfVisits"))
    of_type = tenant.membership_types.get(membership_type_id) if membership_type_id is not None else None
    rows = filters.apply(
        tenant.recurring_service_types.values(),
        [
            (lambda r: of_type is not None and r.id in of_type.recurring_service_type_ids)
            if membership_type_id is not None
            else None,
            (lambda r: recurrence == "Seasonal") if recurrence else None,  # every sandbox type is seasonal
            (lambda r: duration == "Continuous") if duration else None,
        ],
    )
    return paged(q, rows, rv.recurring_service_type, NAMED)


@router.get(f"{MEM}/recurring-service-events")
async def list_recurring_service_events(call: Call) -> dict:
    q = call.query
    rows = filters.apply(
        call.tenant.recurring_service_events.values(),
        [
            *filters.equal_ints(q, {"locationId": "location_id", "jobId": "job_id"}),
            filters.enum_equals(q, "status", EVENT_STATUSES, "status"),
        ],
    )
    return paged(q, rows, rv.recurring_service_event, EVENTS)


class MarkEventComplete(Body):
    jobId: int


@router.post(f"{MEM}/recurring-service-events/{{id}}/mark-complete")
async def mark_complete(call: Call) -> dict:
    tenant = call.tenant
    event = get_or_404(tenant.recurring_service_events, call.path_id(), "Recurring service event")
    body = await call.body(MarkEventComplete)
    job = referenced(tenant.jobs, body.jobId, "jobId", "Job")
    if job.location_id != event.location_id:
        raise bad_request("jobId", f"Job {job.id} is not at the location of this recurring service.")
    mark_event_complete(tenant, event, job.id)
    return {"id": event.id}
