"""Sales (salestech): estimates — what a technician quoted and the customer has not bought yet."""

from __future__ import annotations

from .. import filters
from ..paging import ListOptions, paged
from ..routing import Call, Router, get_or_404
from ..views import revenue as rv

router = Router()
SAL = "/sales/v2/tenant/{tenant}"
ESTIMATES = ListOptions(order_by=True)


@router.get(f"{SAL}/estimates")
async def list_estimates(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    number = q.str("jobNumber")
    status = (q.str("status") or "").casefold()
    greater, less = q.float("totalGreater"), q.float("totalLess")
    sold_by = q.int("soldById")
    sold_by_employee = q.int("soldByEmployeeId")  # the sandbox's sellers are technicians, not office staff
    project = q.int("projectId")  # no sandbox estimate belongs to a project
    rows = filters.apply(
        tenant.estimates.values(),
        [
            *filters.equal_ints(q, {"jobId": "job_id", "locationId": "location_id"}),
            (lambda e: e.job_number == number) if number else None,
            (lambda e: e.status.casefold() == status) if status else None,
            (lambda e: e.subtotal + e.tax >= greater) if greater is not None else None,
            (lambda e: e.subtotal + e.tax <= less) if less is not None else None,
            (lambda e: e.sold_by == sold_by) if sold_by is not None else None,
            (lambda e: False) if sold_by_employee is not None or project is not None else None,
            *filters.time_range(q, "soldAfter", "soldBefore", "sold_on"),
        ],
    )
    return paged(q, rows, lambda e: rv.estimate(e, tenant), ESTIMATES)


@router.get(f"{SAL}/estimates/{{id}}")
async def get_estimate(call: Call) -> dict:
    return rv.estimate(get_or_404(call.tenant.estimates, call.path_id(), "Estimate"), call.tenant)
