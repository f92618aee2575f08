"""Sales (``/sales/v2`` — the salestech document): estimates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from st_mcp.servicetitan.models.common import Page
from st_mcp.servicetitan.models.sales import Estimate
from st_mcp.servicetitan.resources._base import ResourceGroup


class SalesApi(ResourceGroup):
    module = "sales"

    async def list_estimates(
        self,
        *,
        location_id: int | None = None,
        job_id: int | None = None,
        status: str | None = None,
        page_size: int = 50,
    ) -> Page[Estimate]:
        # The operation has no customerId filter: a customer's estimates are read per location.
        params = {"locationId": location_id, "jobId": job_id, "status": status}
        return await self._list("estimates", Estimate, params, page_size=page_size)

    def iter_estimates(self, *, status: str, created_on_or_after: datetime) -> AsyncIterator[Estimate]:
        params = {"status": status, "createdOnOrAfter": created_on_or_after}
        return self._iterate("estimates", Estimate, params)

    async def get_estimate(self, estimate_id: int) -> Estimate:
        return await self._get(f"estimates/{estimate_id}", Estimate)
