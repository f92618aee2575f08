"""What can be booked and where: job types by id, name or alias, and the service area."""

from __future__ import annotations

from dataclasses import dataclass

from st_mcp.config import BookingSettings
from st_mcp.services.bounds import quoted
from st_mcp.services.errors import Refused, UserInputError
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan.models.jpm import JobType


@dataclass(frozen=True, slots=True)
class ServiceArea:
    zip: str
    in_area: bool
    zone_name: str | None
    # Business units that serve the ZIP's zone; None when unknown (no zone, or configured ZIPs).
    business_unit_ids: tuple[int, ...] | None = None


class Catalog:
    def __init__(self, reference: ReferenceData, settings: BookingSettings) -> None:
        self._reference = reference
        self._settings = settings

    async def bookable_job_types(self) -> list[JobType]:
        types = await self._reference.job_types()
        if self._settings.job_types is None:
            return types
        allowed = {name.casefold() for name in self._settings.job_types}
        return [t for t in types if t.name.casefold() in allowed or str(t.id) in allowed]

    async def job_type(self, wanted: str | int) -> JobType:
        """Resolve an id, an exact name (any case) or a configured alias ("no heat")."""
        types = await self.bookable_job_types()
        text = str(wanted).strip().casefold()
        aliases = {
            alias.casefold(): target.casefold() for alias, target in self._settings.job_type_aliases.items()
        }
        target = aliases.get(text, text)
        for job_type in types:
            if str(job_type.id) == target or job_type.name.casefold() == target:
                return job_type
        names = ", ".join(sorted(t.name for t in types))
        raise UserInputError(
            f"Unknown job type {quoted(wanted)}. Use one of: {names} (or an alias such as 'no heat'). "
            "If none fits, escalate_to_dispatcher with reason skill_handling."
        )

    async def warm(self) -> None:
        """Load what ``service_area`` reads, so a caller can fetch it beside its other reads."""
        if self._settings.service_area_zips is None:
            await self._reference.zones()

    async def service_area(self, zip_code: str) -> ServiceArea:
        zip5 = zip_code.strip()[:5]
        if not (len(zip5) == 5 and zip5.isdigit()):
            raise UserInputError(
                f"{quoted(zip_code)} is not a US ZIP code. Ask for the 5-digit ZIP of the service address."
            )
        if self._settings.service_area_zips is not None:
            return ServiceArea(zip5, zip5 in self._settings.service_area_zips, None)
        for zone in await self._reference.zones():
            if zip5 in (zone.zips or []):
                return ServiceArea(zip5, True, zone.name, tuple(zone.businessUnits or ()) or None)
        return ServiceArea(zip5, False, None)

    async def require_in_area(self, zip_code: str) -> ServiceArea:
        area = await self.service_area(zip_code)
        if not area.in_area:
            raise Refused(
                f"ZIP {area.zip} is outside the service area, so no appointment can be booked there. "
                "Tell the caller politely; escalate_to_dispatcher if they insist."
            )
        return area
