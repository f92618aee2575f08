"""A customer's context in one call (the work-order blueprint's "context enrichment"): past jobs with their
notes, installed equipment (make, model, age), recent calls and how many estimates are open — fetched
concurrently, so it costs about two round trips whatever the customer's size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import anyio
from pydantic import BaseModel

from st_mcp.services.availability import Availability
from st_mcp.services.concurrency import Later
from st_mcp.services.errors import NotFound
from st_mcp.services.phones import mask_phone, normalize_phone
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan import NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.jpm import Job

MAX_JOBS = 10
MAX_CALLS = 10


class HistoryNote(BaseModel):
    text: str
    created_on: datetime | None = None


class HistoryJob(BaseModel):
    job_id: int
    job_number: str
    job_type: str
    status: str
    summary: str | None
    completed_on: datetime | None
    created_on: datetime | None
    notes: list[HistoryNote]


class EquipmentItem(BaseModel):
    name: str
    type: str | None
    make: str
    model: str
    installed_on: datetime | None
    age_years: float | None
    location_id: int


class CallItem(BaseModel):
    received_on: datetime
    direction: str
    duration: str
    call_type: str | None
    reason: str | None
    job_number: str | None


class CustomerHistory(BaseModel):
    customer_id: int
    name: str
    jobs: list[HistoryJob]
    equipment: list[EquipmentItem]
    calls: list[CallItem]
    open_estimates: int
    phone: str | None  # masked
    note: str


class CustomerHistories:
    def __init__(
        self,
        st: ServiceTitanClient,
        reference: ReferenceData,
        availability: Availability,
        clock: Callable[[], datetime],
    ) -> None:
        self._st = st
        self._reference = reference
        self._availability = availability
        self._now = clock

    async def history(self, customer_id: int) -> CustomerHistory:
        # Round trip 1: the customer, its locations, contacts and jobs, at once.
        async with anyio.create_task_group() as tg:
            customer = Later(tg, self._customer(customer_id))
            locations = Later(tg, self._st.crm.list_locations(customer_id=customer_id, page_size=50))
            contacts = Later(tg, self._st.crm.list_customer_contacts(customer_id))
            jobs = Later(
                tg, self._st.jpm.list_jobs(customer_id=customer_id, sort="-CreatedOn", page_size=MAX_JOBS)
            )
            job_types = Later(tg, self._reference.job_types())
        name = customer.value  # first: an unknown customer is the error to report, not its contacts' 404
        location_ids = [loc.id for loc in locations.value.data]
        phone = next((c.value for c in contacts.value.data if c.type in ("Phone", "MobilePhone")), None)
        recent: list[Job] = jobs.value.data
        # Round trip 2: what hangs off them, at once.
        async with anyio.create_task_group() as tg:
            notes = {job.id: Later(tg, self._st.jpm.list_job_notes(job.id, page_size=20)) for job in recent}
            equipment = (
                Later(tg, self._st.equipment.list_installed_equipment(location_ids=location_ids))
                if location_ids
                else None
            )
            estimates = [Later(tg, self._st.sales.list_estimates(location_id=i)) for i in location_ids]
            calls = Later(tg, self._calls(phone))
        now = self._now()
        names = {t.id: t.name for t in job_types.value}
        open_estimates = {
            e.id
            for page in estimates
            for e in page.value.data
            if e.active and e.status and e.status.name == "Open"
        }
        return CustomerHistory(
            customer_id=customer_id,
            name=name,
            jobs=[
                HistoryJob(
                    job_id=job.id,
                    job_number=job.jobNumber,
                    job_type=names.get(job.jobTypeId, str(job.jobTypeId)),
                    status=job.jobStatus,
                    summary=job.summary,
                    completed_on=job.completedOn,
                    created_on=job.createdOn,
                    notes=[
                        HistoryNote(text=n.text, created_on=n.createdOn) for n in notes[job.id].value.data
                    ],
                )
                for job in recent
            ],
            equipment=[
                EquipmentItem(
                    name=item.name,
                    type=item.type.name if item.type else None,
                    make=item.manufacturer,
                    model=item.model,
                    installed_on=item.installedOn,
                    age_years=round((now - item.installedOn).days / 365.25, 1) if item.installedOn else None,
                    location_id=item.locationId,
                )
                for item in (equipment.value.data if equipment else [])
            ],
            calls=calls.value,
            open_estimates=len(open_estimates),
            phone=mask_phone(normalize_phone(phone)) if phone else None,
            note=(
                "Context for this conversation: mention past work or equipment only when it helps the "
                "caller; never quote prices from estimates — a CSR follows up on those."
            ),
        )

    async def _customer(self, customer_id: int) -> str:
        try:
            return (await self._st.crm.get_customer(customer_id)).name
        except NotFoundError:
            raise NotFound(f"No customer with id {customer_id}. Use lookup_customer to find them.") from None

    async def _calls(self, phone: str | None) -> list[CallItem]:
        if not phone:
            return []
        found = await self._st.telecom.list_calls(caller_phone_number=phone, page_size=MAX_CALLS)
        return [
            CallItem(
                received_on=c.leadCall.receivedOn,
                direction=c.leadCall.direction,
                duration=c.leadCall.duration,
                call_type=c.leadCall.callType,
                reason=c.leadCall.reason.name if c.leadCall.reason else None,
                job_number=c.jobNumber,
            )
            for c in found.data
        ]
