"""Marketing: campaigns (the lead sources a job or lead is attributed to)."""

from __future__ import annotations

from .. import filters
from ..paging import ListOptions, paged
from ..routing import Call, Router, get_or_404
from ..state import phone_digits, phone_matches
from ..views import business as v

router = Router()
MRK = "/marketing/v2/tenant/{tenant}"
CAMPAIGNS = ListOptions(
    sort_fields={"Id": "id", "Name": "name", "CreatedOn": "created_on", "ModifiedOn": "modified_on"}
)


@router.get(f"{MRK}/campaigns")
async def list_campaigns(call: Call) -> dict:
    q = call.query
    phone = q.str("campaignPhoneNumber")
    rows = filters.apply(
        call.tenant.campaigns.values(),
        [
            filters.contains(q, "name", lambda c: c.name),
            (lambda c: phone_matches(map(phone_digits, c.phone_numbers), phone)) if phone else None,
        ],
    )
    return paged(q, rows, v.campaign, CAMPAIGNS)


@router.get(f"{MRK}/campaigns/{{id}}")
async def get_campaign(call: Call) -> dict:
    return v.campaign(get_or_404(call.tenant.campaigns, call.path_id(), "Campaign"))
