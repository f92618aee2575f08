"""Memberships: customer maintenance-plan memberships."""

from __future__ import annotations

from .. import filters
from ..paging import paged
from ..routing import Call, Router, get_or_404
from ..views import business as v

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
