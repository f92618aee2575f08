"""Accounting: invoices (``/accounting/v2``)."""

from __future__ import annotations

from collections.abc import Sequence

from st_mcp.servicetitan.models.accounting import Invoice
from st_mcp.servicetitan.models.common import Page
from st_mcp.servicetitan.resources._base import ResourceGroup


class AccountingApi(ResourceGroup):
    module = "accounting"

    async def list_invoices(
        self,
        *,
        ids: Sequence[int] | None = None,
        job_id: int | None = None,
        customer_id: int | None = None,
        page_size: int = 50,
    ) -> Page[Invoice]:
        params = {"ids": ids, "jobId": job_id, "customerId": customer_id}
        return await self._list("invoices", Invoice, params, page_size=page_size)
