"""Job Planning & Management: jobs, job types, appointments (``/jpm/v2``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from st_mcp.servicetitan.models.common import ActiveFilter, Note, NoteInput, Page
from st_mcp.servicetitan.models.jpm import (
    Appointment,
    AppointmentStatus,
    CancelJobRequest,
    CreateJobRequest,
    Job,
    JobCancelReason,
    JobStatus,
    JobType,
    RescheduleAppointmentRequest,
    UpdateJobRequest,
)
from st_mcp.servicetitan.resources._base import ResourceGroup


class JpmApi(ResourceGroup):
    module = "jpm"

    # Jobs
    async def list_jobs(
        self,
        *,
        ids: Sequence[int] | None = None,
        number: str | None = None,
        job_status: JobStatus | None = None,
        customer_id: int | None = None,
        location_id: int | None = None,
        appointment_starts_on_or_after: datetime | None = None,
        appointment_starts_before: datetime | None = None,
        external_data_application_guid: str | None = None,
        external_data_key: str | None = None,
        external_data_values: Sequence[str] | None = None,
        sort: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> Page[Job]:
        params = {
            "ids": ids,
            "number": number,
            "jobStatus": job_status,
            "customerId": customer_id,
            "locationId": location_id,
            "appointmentStartsOnOrAfter": appointment_starts_on_or_after,
            "appointmentStartsBefore": appointment_starts_before,
            "externalDataApplicationGuid": external_data_application_guid,
            "externalDataKey": external_data_key,
            "externalDataValues": external_data_values,
            "sort": sort,
        }
        return await self._list("jobs", Job, params, page=page, page_size=page_size)

    async def get_job(self, job_id: int, *, external_data_application_guid: str | None = None) -> Job:
        params = {"externalDataApplicationGuid": external_data_application_guid}
        return await self._get(f"jobs/{job_id}", Job, params)

    async def create_job(self, body: CreateJobRequest) -> Job:
        # Never retried on 5xx/timeouts: the job may exist; callers reconcile through externalData.
        return await self._write("POST", "jobs", body, Job)

    async def update_job(self, job_id: int, body: UpdateJobRequest) -> Job:
        return await self._write("PATCH", f"jobs/{job_id}", body, Job)

    async def cancel_job(self, job_id: int, body: CancelJobRequest) -> None:
        await self._write("PUT", f"jobs/{job_id}/cancel", body)

    async def create_job_note(self, job_id: int, body: NoteInput) -> Note:
        return await self._write("POST", f"jobs/{job_id}/notes", body, Note)

    async def list_job_notes(self, job_id: int, *, page_size: int = 50) -> Page[Note]:
        return await self._list(f"jobs/{job_id}/notes", Note, {}, page_size=page_size)

    async def list_job_cancel_reasons(self) -> Page[JobCancelReason]:
        return await self._list("job-cancel-reasons", JobCancelReason, {}, page_size=200)

    # Job types
    async def list_job_types(
        self, *, active: ActiveFilter | None = None, page_size: int = 200
    ) -> Page[JobType]:
        return await self._list("job-types", JobType, {"active": active}, page_size=page_size)

    def iter_job_types(self) -> AsyncIterator[JobType]:
        return self._iterate("job-types", JobType, {})

    async def get_job_type(self, job_type_id: int) -> JobType:
        return await self._get(f"job-types/{job_type_id}", JobType)

    # Appointments
    async def list_appointments(
        self,
        *,
        ids: Sequence[int] | None = None,
        job_id: int | None = None,
        status: AppointmentStatus | None = None,
        starts_on_or_after: datetime | None = None,
        starts_before: datetime | None = None,
        customer_id: int | None = None,
        technician_id: int | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> Page[Appointment]:
        params = {
            "ids": ids,
            "jobId": job_id,
            "status": status,
            "startsOnOrAfter": starts_on_or_after,
            "startsBefore": starts_before,
            "customerId": customer_id,
            "technicianId": technician_id,
        }
        return await self._list("appointments", Appointment, params, page=page, page_size=page_size)

    async def get_appointment(self, appointment_id: int) -> Appointment:
        return await self._get(f"appointments/{appointment_id}", Appointment)

    async def reschedule_appointment(
        self, appointment_id: int, body: RescheduleAppointmentRequest
    ) -> Appointment:
        return await self._write("PATCH", f"appointments/{appointment_id}/reschedule", body, Appointment)
