"""After-the-booking reads and writes: installed equipment (equipment-systems), calls (telecom v3),
estimates (sales, read only), technician ratings (customer-interactions) and the export feeds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import Field

from st_mcp.servicetitan.models.common import StModel, StRequest

T = TypeVar("T")


class ExportPage(StModel, Generic[T]):
    """An export feed's envelope: ``continueFrom`` is the token for the next request's ``from``."""

    hasMore: bool
    continueFrom: str
    data: list[T]


class EquipmentType(StModel):
    id: int
    name: str | None = None


class InstalledEquipment(StModel):
    id: int
    active: bool = True
    locationId: int
    customerId: int
    name: str
    type: EquipmentType | None = None
    installedOn: datetime | None = None
    manufacturedOn: date | None = None
    createdOn: datetime
    modifiedOn: datetime
    serialNumber: str = ""
    memo: str = ""
    manufacturer: str = ""
    model: str = ""
    status: str = ""


class CallReason(StModel):
    id: int | None = None
    name: str | None = None


class CallParty(StModel):
    id: int
    name: str | None = None


class LeadCall(StModel):
    id: int
    receivedOn: datetime
    duration: str
    from_: str | None = Field(default=None, alias="from")  # "from" is a Python keyword
    to: str | None = None
    direction: str
    callType: str | None = None
    reason: CallReason | None = None
    customer: CallParty | None = None
    agent: CallParty | None = None


class Call(StModel):
    id: int
    jobNumber: str | None = None
    leadCall: LeadCall


class TechnicianRatingRequest(StRequest):
    technicianId: int
    jobId: int
    rating: float


class TechnicianRating(StModel):
    technicianId: int
    jobId: int
    rating: float
    active: bool = True
    createdOn: datetime
    modifiedOn: datetime


class ExportJob(StModel):
    id: int
    jobNumber: str
    customerId: int
    locationId: int
    jobStatus: str
    completedOn: datetime | None = None
    firstAppointmentId: int
    lastAppointmentId: int
    modifiedOn: datetime
    active: bool = True


class ExportAppointment(StModel):
    id: int
    jobId: int
    start: datetime
    end: datetime
    arrivalWindowStart: datetime | None = None
    arrivalWindowEnd: datetime | None = None
    status: str
    customerId: int
    modifiedOn: datetime
    active: bool = True


class ExportAssignment(StModel):
    id: int
    technicianId: int
    technicianName: str
    jobId: int
    appointmentId: int
    modifiedOn: datetime
    active: bool = True
