"""Dispatch module: capacity, appointment assignments, shifts, arrival windows, zones, business hours."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from st_mcp.servicetitan.models.common import StModel, StRequest


class CapacityRequest(StRequest):
    startsOnOrAfter: datetime
    endsOnOrBefore: datetime
    businessUnitIds: list[int] | None = None
    jobTypeId: int | None = None
    skillBasedAvailability: bool = True


class CapacityTechnician(StModel):
    id: int
    name: str
    status: Literal["Available", "Unavailable"]
    hasRequiredSkills: bool | None = None


class CapacityAvailability(StModel):
    # start/end carry business-local wall time with a misleading "Z"; startUtc/endUtc are the truth.
    start: datetime
    end: datetime
    startUtc: datetime
    endUtc: datetime
    businessUnitIds: list[int]
    totalAvailability: float
    openAvailability: float
    technicians: list[CapacityTechnician]
    isAvailable: bool
    isExceedingIdealBookingPercentage: bool


class CapacityResponse(StModel):
    timeStamp: datetime
    availabilities: list[CapacityAvailability]


class AppointmentAssignment(StModel):
    id: int
    technicianId: int
    technicianName: str
    assignedById: int | None = None
    assignedOn: datetime | None = None
    status: str
    isPaused: bool = False
    jobId: int
    appointmentId: int
    createdOn: datetime | None = None
    modifiedOn: datetime | None = None
    active: bool = True


class AssignTechniciansRequest(StRequest):
    jobAppointmentId: int
    technicianIds: list[int]


class TechnicianShift(StModel):
    id: int
    shiftType: Literal["Normal", "OnCall", "TimeOff"]
    title: str
    note: str | None = None
    active: bool = True
    technicianId: int
    start: datetime
    end: datetime


class ArrivalWindow(StModel):
    id: int
    start: str  # local time of day, e.g. "08:00"
    duration: str  # e.g. "02:00"
    businessUnitIds: list[int] = []
    active: bool = True


class Zone(StModel):
    id: int
    active: bool
    name: str | None = None
    zips: list[str] | None = None
    cities: list[str] | None = None
    businessUnits: list[int] | None = None
    technicians: list[int] | None = None
    serviceDaysEnabled: bool = False
    serviceDays: list[str] | None = None


class HourRange(StModel):
    fromHour: int
    toHour: int


class BusinessHours(StModel):
    weekdays: list[HourRange]
    saturday: list[HourRange]
    sunday: list[HourRange]


class TechnicianTracking(StModel):
    technicianTrackingUrl: str
