"""After-the-booking modules: equipment systems, telecom calls (v3), technician
ratings (customer-interactions), and the export feeds the job-events watcher and the leads poller follow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

from st_mcp.servicetitan.models.common import Page
from st_mcp.servicetitan.models.crm import ExportLead
from st_mcp.servicetitan.models.lifecycle import (
    Call,
    ExportAppointment,
    ExportAssignment,
    ExportJob,
    ExportPage,
    InstalledEquipment,
    TechnicianRating,
    TechnicianRatingRequest,
)
from st_mcp.servicetitan.resources._base import ResourceGroup

M = TypeVar("M", bound=BaseModel)


class EquipmentSystemsApi(ResourceGroup):
    module = "equipmentsystems"

    async def list_installed_equipment(
        self, *, location_ids: Sequence[int], page_size: int = 50
    ) -> Page[InstalledEquipment]:
        params = {"locationIds": list(location_ids), "active": "True"}
        return await self._list("installed-equipment", InstalledEquipment, params, page_size=page_size)


class TelecomApi(ResourceGroup):
    module = "telecom/v3"  # calls by caller number exist only in v3

    async def list_calls(self, *, caller_phone_number: str, page_size: int = 10) -> Page[Call]:
        params = {"callerPhoneNumber": caller_phone_number, "sort": "-CreatedOn"}
        return await self._list("calls", Call, params, page_size=page_size)


class CustomerInteractionsApi(ResourceGroup):
    module = "customer-interactions"

    async def rate_technician(self, body: TechnicianRatingRequest) -> TechnicianRating:
        # Upsert by (technician, job) per the document, so repeating it is harmless.
        return await self._write("POST", "technician-ratings", body, TechnicianRating, repeatable=True)

    async def list_ratings(self, *, job_id: int) -> Page[TechnicianRating]:
        return await self._list("technician-ratings", TechnicianRating, {"jobId": job_id})


class ExportFeeds(ResourceGroup):
    """The export feeds: ``from`` is the last answer's ``continueFrom`` (None: from the beginning)."""

    async def _export(self, module: str, path: str, model: type[M], token: str | None) -> ExportPage[M]:
        params = {"from": token, "includeRecentChanges": True}
        body = await self._http.send("GET", module, path, params=params)
        return ExportPage[model].model_validate(body)  # type: ignore[valid-type]

    async def jobs(self, token: str | None) -> ExportPage[ExportJob]:
        return await self._export("jpm", "export/jobs", ExportJob, token)

    async def appointments(self, token: str | None) -> ExportPage[ExportAppointment]:
        return await self._export("jpm", "export/appointments", ExportAppointment, token)

    async def appointment_assignments(self, token: str | None) -> ExportPage[ExportAssignment]:
        return await self._export("dispatch", "export/appointment-assignments", ExportAssignment, token)

    async def leads(self, token: str | None) -> ExportPage[ExportLead]:
        return await self._export("crm", "export/leads", ExportLead, token)
