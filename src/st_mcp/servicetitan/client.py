"""``ServiceTitanClient``: one object per tenant, with a resource group per ServiceTitan module."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx

from st_mcp.servicetitan.environments import Endpoints
from st_mcp.servicetitan.http import ServiceTitanHttp
from st_mcp.servicetitan.metrics import UpstreamMeter
from st_mcp.servicetitan.resources.accounting import AccountingApi
from st_mcp.servicetitan.resources.crm import CrmApi
from st_mcp.servicetitan.resources.dispatch import DispatchApi
from st_mcp.servicetitan.resources.jpm import JpmApi
from st_mcp.servicetitan.resources.lifecycle import (
    CustomerInteractionsApi,
    EquipmentSystemsApi,
    ExportFeeds,
    TelecomApi,
)
from st_mcp.servicetitan.resources.marketing import MarketingApi
from st_mcp.servicetitan.resources.memberships import MembershipsApi
from st_mcp.servicetitan.resources.sales import SalesApi
from st_mcp.servicetitan.resources.settings import SettingsApi
from st_mcp.servicetitan.resources.tasks import TaskManagementApi
from st_mcp.servicetitan.retry import RetryPolicy


class ServiceTitanClient:
    """Async client for one tenant. Use as ``async with ServiceTitanClient(...) as st:``."""

    def __init__(
        self,
        *,
        tenant_id: int,
        client_id: str,
        client_secret: str,
        app_key: str,
        endpoints: Endpoints,
        transport: httpx.AsyncBaseTransport | None = None,
        meter: UpstreamMeter | None = None,
        requests_per_second: float = 60,
        max_in_flight: int = 50,
        retry_policy: RetryPolicy | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.http = ServiceTitanHttp(
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            app_key=app_key,
            endpoints=endpoints,
            transport=transport,
            meter=meter,
            requests_per_second=requests_per_second,
            max_in_flight=max_in_flight,
            retry_policy=retry_policy,
            timeout_seconds=timeout_seconds,
        )
        self.crm = CrmApi(self.http)
        self.jpm = JpmApi(self.http)
        self.dispatch = DispatchApi(self.http)
        self.settings = SettingsApi(self.http)
        self.marketing = MarketingApi(self.http)
        self.memberships = MembershipsApi(self.http)
        self.accounting = AccountingApi(self.http)
        self.tasks = TaskManagementApi(self.http)
        self.equipment = EquipmentSystemsApi(self.http)
        self.telecom = TelecomApi(self.http)
        self.sales = SalesApi(self.http)
        self.customer_interactions = CustomerInteractionsApi(self.http)
        self.exports = ExportFeeds(self.http)

    @property
    def tenant_id(self) -> int:
        return self.http.tenant_id

    @property
    def meter(self) -> UpstreamMeter:
        return self.http.meter

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
