"""Moving a sandbox job through the day the way a dispatcher and a technician would — dispatched, working,
completed — which ServiceTitan's API cannot do. For tests (``advance_job``), the demo and anyone on this
machine (``POST /_sandbox/jobs/{id}/progress``, ``st-mcp sandbox progress JOB STATUS``)."""

from __future__ import annotations

import json
from typing import Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .admin import _is_local
from .entities import Appointment, Job
from .problems import problem_response
from .state import SandboxTenant
from .statefile import StateFile

Progress = Literal["Dispatched", "Working", "Completed"]
PROGRESS: tuple[str, ...] = ("Dispatched", "Working", "Completed")
PROGRESS_PATH = "/_sandbox/jobs/{id:int}/progress"
_APPOINTMENT_STATUS = {"Dispatched": "Dispatched", "Working": "Working", "Completed": "Done"}


class ProgressError(ValueError):
    """The job cannot move there (canceled, already done, unknown)."""


def advance_job(tenant: SandboxTenant, job_id: int, status: str, technician_id: int | None = None) -> Job:
    """Move the job's current appointment to ``status`` (a technician is assigned first when none is)."""
    if status not in PROGRESS:
        raise ProgressError(f"status must be one of {', '.join(PROGRESS)}")
    job = tenant.jobs.get(job_id)
    if job is None:
        raise ProgressError(f"no job {job_id}")
    if job.status in ("Canceled", "Completed"):
        raise ProgressError(f"job {job_id} is {job.status}")
    appointment = _current(tenant, job)
    if technician_id is not None and technician_id not in tenant.technicians:
        raise ProgressError(f"no technician {technician_id}")
    if technician_id is not None:
        tenant.assign(appointment, [technician_id])
    elif not tenant.appointment_technician_ids(appointment.id):
        tenant.assign(appointment, [_technician_for(tenant, job)])
    tenant.set_appointment_status(appointment.id, _APPOINTMENT_STATUS[status])
    return job


def _current(tenant: SandboxTenant, job: Job) -> Appointment:
    open_ones = [
        a for a in tenant.job_appointments(job) if a.status in ("Scheduled", "Dispatched", "Working")
    ]
    if not open_ones:
        raise ProgressError(f"job {job.id} has no open appointment")
    return min(open_ones, key=lambda a: (a.start, a.id))


def _technician_for(tenant: SandboxTenant, job: Job) -> int:
    crew = [t for t in tenant.technicians.values() if t.active and t.business_unit_id == job.business_unit_id]
    crew = crew or [t for t in tenant.technicians.values() if t.active]
    return min(crew, key=lambda t: t.id).id


def progress_routes(tenant: SandboxTenant, state: StateFile | None) -> list[Route]:
    async def progress(request: Request) -> Response:
        if not _is_local(request):
            return problem_response(403, "The sandbox's admin routes answer only on this machine.")
        try:
            body = json.loads(await request.body() or b"{}")
            status = str(body.get("status", ""))
            technician = body.get("technicianId")
            technician_id = int(technician) if technician is not None else None
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
            return problem_response(400, errors={"": ['Send {"status": "Dispatched|Working|Completed"}.']})
        job_id = int(request.path_params["id"])
        try:
            if state is None:
                job = advance_job(tenant, job_id, status, technician_id)
            else:  # outside the persistence middleware: keep the shared state file in step here
                async with state.writing():
                    state.refresh(tenant)
                    try:
                        job = advance_job(tenant, job_id, status, technician_id)
                        state.save(tenant)
                    except BaseException:
                        state.discard_changes(tenant)
                        raise
        except ProgressError as exc:
            return problem_response(400, errors={"status": [str(exc)]})
        appointments = [{"id": a.id, "status": a.status} for a in tenant.job_appointments(job)]
        return JSONResponse({"jobId": job.id, "jobStatus": job.status, "appointments": appointments})

    return [Route(PROGRESS_PATH, progress, methods=["POST"])]
