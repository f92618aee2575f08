"""Reference data that barely changes, cached for minutes (DESIGN §10) and resolved by name or id.

Each list is fetched once per TTL, however many tool calls ask at the same time (async-lru shares one
in-flight fetch between concurrent callers).
"""

from __future__ import annotations

from typing import TypeVar

from async_lru import alru_cache

from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.dispatch import Zone
from st_mcp.servicetitan.models.jpm import JobCancelReason, JobType
from st_mcp.servicetitan.models.marketing import Campaign
from st_mcp.servicetitan.models.settings import BusinessUnit, TagType, Technician
from st_mcp.servicetitan.models.tasks import TaskClientData

REFERENCE_TTL_SECONDS = 300.0
_Named = TypeVar("_Named", Campaign, TagType)


class ReferenceData:
    def __init__(self, st: ServiceTitanClient, ttl_seconds: float = REFERENCE_TTL_SECONDS) -> None:
        self._st = st
        cached = alru_cache(maxsize=1, ttl=ttl_seconds)
        self.job_types = cached(self._job_types)
        self.business_units = cached(self._business_units)
        self.campaigns = cached(self._campaigns)
        self.tag_types = cached(self._tag_types)
        self.technicians = cached(self._technicians)
        self.zones = cached(self._zones)
        self.cancel_reasons = cached(self._cancel_reasons)
        self.task_data = cached(self._task_data)

    def clear(self) -> None:
        for fn in (
            self.job_types,
            self.business_units,
            self.campaigns,
            self.tag_types,
            self.technicians,
            self.zones,
            self.cancel_reasons,
            self.task_data,
        ):
            fn.cache_clear()

    async def _job_types(self) -> list[JobType]:
        return [t async for t in self._st.jpm.iter_job_types() if t.active]

    async def _business_units(self) -> list[BusinessUnit]:
        return (await self._st.settings.list_business_units(active="True")).data

    async def _campaigns(self) -> list[Campaign]:
        return (await self._st.marketing.list_campaigns(active="True")).data

    async def _tag_types(self) -> list[TagType]:
        return (await self._st.settings.list_tag_types(active="True")).data

    async def _technicians(self) -> list[Technician]:
        return (await self._st.settings.list_technicians(active="Any")).data

    async def _zones(self) -> list[Zone]:
        return (await self._st.dispatch.list_zones(active="True")).data

    async def _cancel_reasons(self) -> list[JobCancelReason]:
        return (await self._st.jpm.list_job_cancel_reasons()).data

    async def _task_data(self) -> TaskClientData:
        return await self._st.tasks.client_data()

    async def campaign(self, name_or_id: str) -> Campaign | None:
        return _by_name_or_id(await self.campaigns(), name_or_id)

    async def tag_type(self, name_or_id: str) -> TagType | None:
        return _by_name_or_id(await self.tag_types(), name_or_id)

    async def technician_names(self) -> dict[int, str]:
        return {t.id: t.name for t in await self.technicians()}

    async def service_area_zips(self) -> set[str]:
        return {z for zone in await self.zones() for z in (zone.zips or [])}


def _by_name_or_id(items: list[_Named], name_or_id: str) -> _Named | None:
    wanted = name_or_id.strip().casefold()
    for item in items:
        if str(item.id) == wanted or item.name.casefold() == wanted:
            return item
    return None
