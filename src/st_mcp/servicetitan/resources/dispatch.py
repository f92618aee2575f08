"""Dispatch: capacity, assignments, shifts, arrival windows, zones (``/dispatch/v2``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from st_mcp.servicetitan.models.common import ActiveFilter, Page
from st_mcp.servicetitan.models.dispatch import (
    AppointmentAssignment,
    ArrivalWindow,
    AssignTechniciansRequest,
    BusinessHours,
    CapacityRequest,
    CapacityResponse,
    TechnicianShift,
    TechnicianTracking,
    Zone,
)
from st_mcp.servicetitan.models.jpm import Appointment
from st_mcp.servicetitan.resources._base import ResourceGroup


class DispatchApi(ResourceGroup):
    module = "dispatch"

    async def capacity(self, body: CapacityRequest) -> CapacityResponse:
        # A POST that only reads (its scope is even tn.dis.capacity:w), so it is safe to retry.
        return await self._write("POST", "capacity", body, CapacityResponse, repeatable=True)

    async def list_appointment_assignments(
        self,
        *,
        appointment_ids: Sequence[int] | None = None,
        job_id: int | None = None,
        active: ActiveFilter | None = None,
    ) -> Page[AppointmentAssignment]:
        params = {"appointmentIds": appointment_ids, "jobId": job_id, "active": active}
        return await self._list("appointment-assignments", AppointmentAssignment, params, page_size=200)

    async def assign_technicians(self, body: AssignTechniciansRequest) -> Appointment:
        return await self._write("POST", "appointment-assignments/assign-technicians", body, Appointment)

    async def unassign_technicians(self, body: AssignTechniciansRequest) -> Appointment:
        return await self._write("POST", "appointment-assignments/unassign-technicians", body, Appointment)

    async def list_technician_shifts(
        self,
        *,
        starts_on_or_after: datetime | None = None,
        ends_on_or_before: datetime | None = None,
        technician_id: int | None = None,
        page_size: int = 500,
    ) -> Page[TechnicianShift]:
        params = {
            "startsOnOrAfter": starts_on_or_after,
            "endsOnOrBefore": ends_on_or_before,
            "technicianId": technician_id,
        }
        return await self._list("technician-shifts", TechnicianShift, params, page_size=page_size)

    async def list_arrival_windows(self) -> Page[ArrivalWindow]:
        return await self._list("arrival-windows", ArrivalWindow, {}, page_size=200)

    async def list_zones(self, *, active: ActiveFilter | None = None) -> Page[Zone]:
        return await self._list("zones", Zone, {"active": active}, page_size=200)

    async def get_zone(self, zone_id: int) -> Zone:
        return await self._get(f"zones/{zone_id}", Zone)

    async def business_hours(self) -> BusinessHours:
        return await self._get("business-hours", BusinessHours)

    async def technician_tracking(self, technician_id: int, appointment_id: int) -> TechnicianTracking:
        params = {"technicianId": technician_id, "appointmentId": appointment_id}
        return await self._get("technician-tracking", TechnicianTracking, params)
