"""Settings: technicians, business units, tag types."""

from __future__ import annotations

from .. import external, filters
from ..paging import ListOptions, paged
from ..routing import Call, Router, get_or_404
from ..views import settings as v

router = Router()
STT = "/settings/v2/tenant/{tenant}"
UNSORTED = ListOptions(sort_fields={})


@router.get(f"{STT}/technicians")
async def list_technicians(call: Call) -> dict:
    q = call.query
    rows = filters.apply(
        call.tenant.technicians.values(),
        [*filters.in_id_lists(q, {"userIds": "user_id"}), filters.contains(q, "name", lambda t: t.name)],
    )
    return paged(q, rows, v.technician, UNSORTED)


@router.get(f"{STT}/technicians/{{id}}")
async def get_technician(call: Call) -> dict:
    return v.technician(get_or_404(call.tenant.technicians, call.path_id(), "Technician"))


@router.get(f"{STT}/business-units")
async def list_business_units(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    rows = filters.apply(tenant.business_units.values(), [filters.contains(q, "name", lambda b: b.name)])
    external.requested_guid(q)  # business units carry no external data here: every app sees an empty list
    return paged(q, rows, lambda b: v.business_unit(b, tenant.tenant_id, tenant.company_name), UNSORTED)


@router.get(f"{STT}/business-units/{{id}}")
async def get_business_unit(call: Call) -> dict:
    tenant = call.tenant
    external.requested_guid(call.query)
    unit = get_or_404(tenant.business_units, call.path_id(), "Business unit")
    return v.business_unit(unit, tenant.tenant_id, tenant.company_name)


@router.get(f"{STT}/tag-types")
async def list_tag_types(call: Call) -> dict:
    return paged(call.query, call.tenant.tag_types.values(), v.tag_type, ListOptions(ids=False))
