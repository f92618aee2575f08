"""Task Management (``/taskmanagement/v2`` — no hyphen, unlike most modules)."""

from __future__ import annotations

from st_mcp.servicetitan.models.common import Page
from st_mcp.servicetitan.models.tasks import CreateTaskRequest, Task, TaskClientData
from st_mcp.servicetitan.resources._base import ResourceGroup


class TaskManagementApi(ResourceGroup):
    module = "taskmanagement"

    async def client_data(self) -> TaskClientData:
        return await self._get("data", TaskClientData)

    async def create_task(self, body: CreateTaskRequest) -> Task:
        return await self._write("POST", "tasks", body, Task)

    async def list_tasks(self, *, customer_id: int | None = None, job_id: int | None = None) -> Page[Task]:
        return await self._list("tasks", Task, {"customerId": customer_id, "jobId": job_id})

    async def get_task(self, task_id: int) -> Task:
        return await self._get(f"tasks/{task_id}", Task)
