"""Wire shapes — Task management: tasks and the client-side reference data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..entities import (
    PRIORITIES,
    Task,
)
from ..times import iso, iso_or_none
from .common import Json

if TYPE_CHECKING:
    from ..state import SandboxTenant


def _task_common(t: Task, tenant: SandboxTenant) -> Json:
    cust = tenant.customers.get(t.customer_id) if t.customer_id else None
    j = tenant.jobs.get(t.job_id) if t.job_id else None
    return {
        "reportedById": t.reported_by_id,
        "assignedToId": t.assigned_to_id,
        "isClosed": t.is_closed,
        "status": t.status,
        "name": t.name,
        "businessUnitId": t.business_unit_id,
        "employeeTaskTypeId": t.type_id,
        "employeeTaskSourceId": t.source_id,
        "completeBy": iso_or_none(t.complete_by),
        "involvedEmployeeIdList": t.involved_employee_ids,
        "customerId": t.customer_id,
        "jobId": t.job_id,
        "projectId": t.project_id,
        "description": t.description,
        "priority": t.priority,
        "id": t.id,
        "taskNumber": t.task_number,
        "customerName": cust.name if cust else None,
        "jobNumber": j.job_number if j else None,
        "refundIssued": None,
        "descriptionModifiedOn": None,
        "createdOn": iso(t.created_on),
        "modifiedOn": iso(t.modified_on),
    }


def task_created(t: Task, tenant: SandboxTenant) -> Json:
    """TaskCreateResponse."""
    return {
        **_task_common(t, tenant),
        "employeeTaskResolutionId": t.resolution_id,
        "reportedDate": iso(t.reported_on),
        "startedOn": iso_or_none(t.started_on),
        "descriptionModifiedBy": None,
    }


def task(t: Task, tenant: SandboxTenant) -> Json:
    """TaskGetResponse (its resolution id is a non-nullable int: 0 while unresolved)."""
    return {
        **_task_common(t, tenant),
        "active": t.active,
        "closedOn": iso_or_none(t.closed_on),
        "employeeTaskResolutionId": t.resolution_id or 0,
        "reportedOn": iso(t.reported_on),
        "descriptionModifiedById": None,
        "comments": [],
        "attachments": [],
        "subTasksData": None,
    }


TASK_PRIORITIES = PRIORITIES
TASK_STATUSES = ("ToDo", "InProgress", "OnHold", "Canceled", "Completed")
TaskStatus = Literal["ToDo", "InProgress", "OnHold", "Canceled", "Completed"]


def client_side_data(tenant: SandboxTenant) -> Json:
    return {
        "employees": [{"id": e.id, "name": e.name, "active": e.active} for e in tenant.employees.values()],
        "businessUnits": [
            {"name": b.name, "value": b.id} for b in tenant.business_units.values() if b.active
        ],
        "taskPriorities": [{"name": p} for p in TASK_PRIORITIES],
        "taskResolutionTypes": [{"name": "Custom"}, {"name": "Refund"}],
        "taskStatuses": [{"name": s} for s in TASK_STATUSES],
        "taskTypes": [
            {
                "id": t.id,
                "name": t.name,
                "active": t.active,
                "excludedTaskResolutionIds": list(t.excluded_resolution_ids),
            }
            for t in tenant.task_types.values()
        ],
        "taskSources": [
            {"id": s.id, "name": s.name, "active": s.active} for s in tenant.task_sources.values()
        ],
        "taskResolutions": [
            {
                "id": r.id,
                "name": r.name,
                "type": r.type,
                "active": r.active,
                "excludedTaskTypeIds": list(r.excluded_task_type_ids),
            }
            for r in tenant.task_resolutions.values()
        ],
    }
