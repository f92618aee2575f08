"""Wire shapes — Dispatch: assignments, shifts, arrival windows, zones, business hours, capacity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..capacity import Availability
from ..entities import (
    ArrivalWindow,
    Assignment,
    BusinessHours,
    Shift,
    Zone,
)
from ..times import iso, local_wall_as_z
from .common import Json, timespan

if TYPE_CHECKING:
    from ..state import SandboxTenant


# Assignment status has no Hold/Canceled; those read as the plain scheduled state.
_ASSIGNMENT_STATUS = {"Dispatched": "Dispatched", "Working": "Working", "Done": "Done"}


def assignment(a: Assignment, tenant: SandboxTenant) -> Json:
    tech = tenant.technicians.get(a.technician_id)
    appt = tenant.appointments.get(a.appointment_id)
    return {
        "id": a.id,
        "technicianId": a.technician_id,
        "technicianName": tech.name if tech else "",
        "assignedById": a.assigned_by_id,
        "assignedOn": iso(a.assigned_on),
        "status": _ASSIGNMENT_STATUS.get(appt.status if appt else "", "Scheduled"),
        "isPaused": False,
        "jobId": a.job_id,
        "appointmentId": a.appointment_id,
        "createdOn": iso(a.created_on),
        "modifiedOn": iso(a.modified_on),
        "active": a.active,
    }


def shift(s: Shift) -> Json:
    return {
        "id": s.id,
        "shiftType": s.shift_type,
        "title": s.title,
        "note": s.note,
        "active": s.active,
        "technicianId": s.technician_id,
        "start": iso(s.start),
        "end": iso(s.end),
        "timesheetCodeId": None,
        "createdOn": iso(s.created_on),
        "modifiedOn": iso(s.modified_on),
    }


def arrival_window(w: ArrivalWindow) -> Json:
    return {
        "id": w.id,
        "start": timespan(w.start),
        "duration": timespan(w.duration),
        "businessUnitIds": list(w.business_unit_ids),
        "active": w.active,
    }


def zone(z: Zone) -> Json:
    return {
        "id": z.id,
        "active": z.active,
        "name": z.name,
        "zips": list(z.zips),
        "cities": list(z.cities),
        "territoryNumbers": [],
        "locnNumbers": [],
        "createdBy": z.created_by,
        "createdOn": iso(z.created_on),
        "modifiedOn": iso(z.modified_on),
        "serviceDaysEnabled": False,
        "serviceDays": [],
        "businessUnits": list(z.business_unit_ids),
        "technicians": list(z.technician_ids),
    }


def business_hours(h: BusinessHours) -> Json:
    def ranges(items: list[tuple[int, int]]) -> list[Json]:
        return [{"fromHour": a, "toHour": b} for a, b in items]

    return {"weekdays": ranges(h.weekdays), "saturday": ranges(h.saturday), "sunday": ranges(h.sunday)}


def capacity(availabilities: list[Availability], now_iso: str) -> Json:
    return {
        "timeStamp": now_iso,
        "availabilities": [
            {
                "start": local_wall_as_z(a.start),
                "end": local_wall_as_z(a.end),
                "startUtc": iso(a.start),
                "endUtc": iso(a.end),
                "businessUnitIds": list(a.business_unit_ids),
                "totalAvailability": a.total_hours,
                "openAvailability": a.open_hours,
                "technicians": [
                    {
                        "id": s.technician.id,
                        "name": s.technician.name,
                        "status": "Available" if s.available else "Unavailable",
                        "hasRequiredSkills": s.has_required_skills,
                    }
                    for s in a.technicians
                ],
                "isAvailable": a.is_available,
                "isExceedingIdealBookingPercentage": a.is_exceeding_ideal_booking_percentage,
            }
            for a in availabilities
        ],
    }
