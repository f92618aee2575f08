"""Job Planning & Management module: jobs, job types, appointments, cancel reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from st_mcp.servicetitan.models.common import (
    CustomField,
    ExternalDataInput,
    ExternalDataItem,
    StModel,
    StRequest,
)

JobStatus = Literal["Scheduled", "Dispatched", "InProgress", "Hold", "Completed", "Canceled"]
AppointmentStatus = Literal["Scheduled", "Dispatched", "Working", "Hold", "Done", "Canceled"]


class JobType(StModel):
    id: int
    name: str
    businessUnitIds: list[int]
    skills: list[str] = []
    tagTypeIds: list[int] = []
    priority: str
    duration: int  # seconds
    summary: str | None = None
    active: bool = True
    modifiedOn: datetime | None = None
    createdOn: datetime | None = None


class Job(StModel):
    id: int
    jobNumber: str
    projectId: int | None = None
    customerId: int
    locationId: int
    jobStatus: str
    completedOn: datetime | None = None
    businessUnitId: int
    jobTypeId: int
    priority: str
    campaignId: int
    appointmentCount: int
    firstAppointmentId: int
    lastAppointmentId: int
    noCharge: bool = False
    notificationsEnabled: bool = True
    createdOn: datetime
    createdById: int | None = None
    modifiedOn: datetime
    tagTypeIds: list[int] = []
    leadCallId: int | None = None
    bookingId: int | None = None
    soldById: int | None = None
    customerPo: str | None = None
    invoiceId: int | None = None
    membershipId: int | None = None
    total: float | str | None = None
    summary: str | None = None
    customFields: list[CustomField] = []
    externalData: list[ExternalDataItem] | None = None


class AppointmentInput(StRequest):
    start: datetime
    end: datetime
    arrivalWindowStart: datetime | None = None
    arrivalWindowEnd: datetime | None = None
    technicianIds: list[int] | None = None


class CreateJobRequest(StRequest):
    customerId: int
    locationId: int
    businessUnitId: int
    jobTypeId: int
    priority: str
    campaignId: int
    appointments: list[AppointmentInput]
    summary: str | None = None
    tagTypeIds: list[int] | None = None
    externalData: ExternalDataInput | None = None
    leadId: int | None = None
    bookingId: int | None = None


class UpdateJobRequest(StRequest):
    summary: str | None = None
    priority: str | None = None
    tagTypeIds: list[int] | None = None


class CancelJobRequest(StRequest):
    reasonId: int
    memo: str


class JobCancelReason(StModel):
    id: int
    name: str
    active: bool = True


class Appointment(StModel):
    id: int
    jobId: int
    appointmentNumber: str | None = None
    start: datetime
    end: datetime
    arrivalWindowStart: datetime | None = None
    arrivalWindowEnd: datetime | None = None
    status: AppointmentStatus
    specialInstructions: str | None = None
    createdOn: datetime
    modifiedOn: datetime
    customerId: int | None = None
    unused: bool = False
    isConfirmed: bool = False
    active: bool = True


class RescheduleAppointmentRequest(StRequest):
    start: datetime
    end: datetime
    arrivalWindowStart: datetime | None = None
    arrivalWindowEnd: datetime | None = None
