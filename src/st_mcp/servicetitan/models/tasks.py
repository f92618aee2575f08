"""Task Management module: tasks a dispatcher sees in ServiceTitan (our escalations land here)."""

from __future__ import annotations

from datetime import datetime

from st_mcp.servicetitan.models.common import StModel, StRequest


class TaskEmployee(StModel):
    id: int
    name: str
    active: bool = True


class TaskBusinessUnit(StModel):
    name: str
    value: int


class TaskTypeRef(StModel):
    id: int
    name: str
    active: bool = True


class NameOnly(StModel):
    name: str


class TaskClientData(StModel):
    """The lookup lists a task needs (who, which type, which source, which priority)."""

    employees: list[TaskEmployee]
    businessUnits: list[TaskBusinessUnit]
    taskPriorities: list[NameOnly]
    taskStatuses: list[NameOnly]
    taskTypes: list[TaskTypeRef]
    taskSources: list[TaskTypeRef]


class CreateTaskRequest(StRequest):
    reportedById: int
    assignedToId: int
    isClosed: bool = False
    name: str
    businessUnitId: int
    employeeTaskTypeId: int
    employeeTaskSourceId: int
    reportedDate: datetime
    priority: str
    completeBy: datetime | None = None
    customerId: int | None = None
    jobId: int | None = None
    description: str | None = None


class Task(StModel):
    id: int
    taskNumber: int | None = None
    name: str
    isClosed: bool = False
    priority: str | None = None
    businessUnitId: int | None = None
    employeeTaskTypeId: int | None = None
    employeeTaskSourceId: int | None = None
    reportedById: int | None = None
    assignedToId: int | None = None
    reportedDate: datetime | None = None
    customerId: int | None = None
    jobId: int | None = None
    description: str | None = None
    createdOn: datetime | None = None
