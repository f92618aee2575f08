"""Settings: technicians, business units, tag types (``/settings/v2``)."""

from __future__ import annotations

from collections.abc import Sequence

from st_mcp.servicetitan.models.common import ActiveFilter, Page
from st_mcp.servicetitan.models.settings import BusinessUnit, TagType, Technician
from st_mcp.servicetitan.resources._base import ResourceGroup


class SettingsApi(ResourceGroup):
    module = "settings"

    async def list_technicians(
        self, *, ids: Sequence[int] | None = None, active: ActiveFilter | None = None
    ) -> Page[Technician]:
        return await self._list("technicians", Technician, {"ids": ids, "active": active}, page_size=500)

    async def get_technician(self, technician_id: int) -> Technician:
        return await self._get(f"technicians/{technician_id}", Technician)

    async def list_business_units(self, *, active: ActiveFilter | None = None) -> Page[BusinessUnit]:
        return await self._list("business-units", BusinessUnit, {"active": active}, page_size=200)

    async def get_business_unit(self, business_unit_id: int) -> BusinessUnit:
        return await self._get(f"business-units/{business_unit_id}", BusinessUnit)

    async def list_tag_types(self, *, active: ActiveFilter | None = None) -> Page[TagType]:
        return await self._list("tag-types", TagType, {"active": active}, page_size=500)
