"""Task management: the reference data (``/data``) and tasks — how an escalation reaches a human."""

from __future__ import annotations

from .. import filters
from ..bodies import Body, Priority, UtcDatetime, require_text
from ..entities import PRIORITIES, Task
from ..paging import ListOptions, paged
from ..routing import Call, Router, get_or_404, referenced
from ..views import tasks as v

router = Router()
TSM = "/taskmanagement/v2/tenant/{tenant}"
TASKS = ListOptions(
    sort_fields={
        "Id": "id",
        "CreatedOn": "created_on",
        "DescriptionModifiedOn": "modified_on",
        "Priority": "priority_rank",
    }
)
TASK_ID_FILTERS = {
    "reportedById": "reported_by_id",
    "assignedToId": "assigned_to_id",
    "customerId": "customer_id",
    "jobId": "job_id",
    "projectId": "project_id",
    "taskNumber": "task_number",
}
TASK_ID_LIST_FILTERS = {
    "businessUnitIds": "business_unit_id",
    "employeeTaskTypeIds": "type_id",
    "employeeTaskSourceIds": "source_id",
    "employeeTaskResolutionIds": "resolution_id",
}


class CreateTask(Body):
    reportedById: int
    assignedToId: int
    isClosed: bool
    status: v.TaskStatus | None = None
    name: str
    businessUnitId: int
    employeeTaskTypeId: int
    employeeTaskSourceId: int
    employeeTaskResolutionId: int | None = None
    reportedDate: UtcDatetime
    completeBy: UtcDatetime | None = None
    startedOn: UtcDatetime | None = None
    involvedEmployeeIdList: list[int] | None = None
    customerId: int | None = None
    jobId: int | None = None
    projectId: int | None = None
    description: str | None = None
    priority: Priority


@router.get(f"{TSM}/data")
async def client_side_data(call: Call) -> dict:
    return v.client_side_data(call.tenant)


@router.post(f"{TSM}/tasks")
async def create_task(call: Call) -> dict:
    tenant, now = call.tenant, call.tenant.now()
    body = await call.body(CreateTask)
    require_text("name", body.name)
    referenced(tenant.employees, body.reportedById, "reportedById", "Employee")
    referenced(tenant.employees, body.assignedToId, "assignedToId", "Employee")
    for employee_id in body.involvedEmployeeIdList or []:
        referenced(tenant.employees, employee_id, "involvedEmployeeIdList", "Employee")
    referenced(tenant.business_units, body.businessUnitId, "businessUnitId", "Business unit")
    referenced(tenant.task_types, body.employeeTaskTypeId, "employeeTaskTypeId", "Task type")
    referenced(tenant.task_sources, body.employeeTaskSourceId, "employeeTaskSourceId", "Task source")
    if body.employeeTaskResolutionId is not None:
        referenced(
            tenant.task_resolutions, body.employeeTaskResolutionId, "employeeTaskResolutionId", "Resolution"
        )
    if body.customerId is not None:
        referenced(tenant.customers, body.customerId, "customerId", "Customer")
    if body.jobId is not None:
        referenced(tenant.jobs, body.jobId, "jobId", "Job")
    status = body.status or ("Completed" if body.isClosed else "ToDo")
    task = Task(
        id=tenant.new_id("task"),
        task_number=tenant.new_task_number(),
        name=body.name,
        reported_by_id=body.reportedById,
        assigned_to_id=body.assignedToId,
        business_unit_id=body.businessUnitId,
        type_id=body.employeeTaskTypeId,
        source_id=body.employeeTaskSourceId,
        priority=body.priority,
        status=status,
        is_closed=body.isClosed,
        reported_on=body.reportedDate,
        created_on=now,
        modified_on=now,
        resolution_id=body.employeeTaskResolutionId,
        complete_by=body.completeBy,
        started_on=body.startedOn,
        closed_on=now if body.isClosed else None,
        involved_employee_ids=body.involvedEmployeeIdList,
        customer_id=body.customerId,
        job_id=body.jobId,
        project_id=body.projectId,
        description=body.description,
    )
    tenant.tasks[task.id] = task
    return v.task_created(task, tenant)


@router.get(f"{TSM}/tasks")
async def list_tasks(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    involved = q.int_list("involvedEmployeeIdList", max_items=None)
    statuses = q.enum_list("statuses", v.TASK_STATUSES)
    priorities = q.enum_list("priorities", PRIORITIES)
    closed = q.bool("isClosed")
    q.bool("includeSubtasks")  # the sandbox's tasks have no subtasks: with or without, the same list
    job_number = q.str("jobNumber")
    rows = filters.apply(
        tenant.tasks.values(),
        [
            *filters.equal_ints(q, TASK_ID_FILTERS),
            *filters.in_id_lists(q, TASK_ID_LIST_FILTERS),
            (lambda t: bool(involved.intersection(t.involved_employee_ids or []))) if involved else None,
            (lambda t: t.status in statuses) if statuses else None,
            (lambda t: t.priority in priorities) if priorities else None,
            (lambda t: t.is_closed == closed) if closed is not None else None,
            filters.contains(q, "name", lambda t: t.name),
            (lambda t: t.job_id is not None and tenant.jobs[t.job_id].job_number == job_number)
            if job_number
            else None,
            *filters.time_range(q, "reportedOnOrAfter", "reportedBefore", "reported_on"),
            *filters.time_range(q, "completeOnOrAfter", "completeBefore", "complete_by"),
        ],
    )
    return paged(q, rows, lambda t: v.task(t, tenant), TASKS)


@router.get(f"{TSM}/tasks/{{id}}")
async def get_task(call: Call) -> dict:
    call.query.bool("includeSubtasks")
    return v.task(get_or_404(call.tenant.tasks, call.path_id(), "Task"), call.tenant)
