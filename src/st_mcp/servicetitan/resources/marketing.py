"""Marketing: campaigns (``/marketing/v2``)."""

from __future__ import annotations

from collections.abc import Sequence

from st_mcp.servicetitan.models.common import ActiveFilter, Page
from st_mcp.servicetitan.models.marketing import Campaign
from st_mcp.servicetitan.resources._base import ResourceGroup


class MarketingApi(ResourceGroup):
    module = "marketing"

    async def list_campaigns(
        self, *, name: str | None = None, ids: Sequence[int] | None = None, active: ActiveFilter | None = None
    ) -> Page[Campaign]:
        return await self._list(
            "campaigns", Campaign, {"name": name, "ids": ids, "active": active}, page_size=500
        )

    async def get_campaign(self, campaign_id: int) -> Campaign:
        return await self._get(f"campaigns/{campaign_id}", Campaign)
