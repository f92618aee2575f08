"""Open estimates: what a customer was quoted and has not bought — read back exactly, and followed up.

The follow-up cadence works like Speed to Lead: each open estimate (younger than
``[revenue] estimate_max_age_days``) becomes one interaction with goal ``Estimate Follow-up`` through
``ingest_lead`` — the same dedupe, service-area check and new-lead handling — so it shows in
``get_lead_queue`` and every text to it passes the same compliance gate. An estimate is taken in once
(``follow_up_claims``), whichever process finds it first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import anyio
from pydantic import BaseModel

from st_mcp.config import RevenueSettings
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.concurrency import Later
from st_mcp.services.customers import Customers
from st_mcp.services.errors import NotFound, UserInputError
from st_mcp.services.interactions.models import IngestResult
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.periodic import Leader, repeat
from st_mcp.services.reference import ReferenceData
from st_mcp.services.revenue.followups import FollowUpSweep, take_in_once
from st_mcp.services.revenue.money import dollars
from st_mcp.servicetitan import NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.sales import Estimate
from st_mcp.store.revenue import FollowUpClaims

FOLLOW_UP = Principal("estimate-follow-up", SYSTEM_ROLE)
GOAL = "Estimate Follow-up"


class EstimateLine(BaseModel):
    description: str
    quantity: float
    total: float


class OpenEstimate(BaseModel):
    estimate_id: int
    number: str  # ServiceTitan shows estimates by id; the job they came from by its number
    name: str | None
    summary: str | None
    subtotal: float
    tax: float
    total: float
    status: str
    sold_by: str | None  # the technician who presented it
    job_id: int | None
    job_number: str | None
    location_id: int | None
    created_on: datetime
    items: list[EstimateLine]
    words: str  # "Furnace replacement — 96% AFUE: $5,479.00 (quoted Mar 3 by Mike Brennan)"


class OpenEstimatesResult(BaseModel):
    customer_id: int
    estimates: list[OpenEstimate]
    note: str


class EstimateSweep(FollowUpSweep):
    since: datetime


class Estimates:
    def __init__(
        self,
        st: ServiceTitanClient,
        reference: ReferenceData,
        customers: Customers,
        interactions: Interactions,
        follow_ups: FollowUpClaims,
        settings: RevenueSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._st = st
        self._reference = reference
        self._customers = customers
        self._interactions = interactions
        self._follow_ups = follow_ups
        self._settings = settings
        self._now = clock

    async def open_for(self, customer_id: int) -> OpenEstimatesResult:
        """The customer's open estimates, per location (the operation has no customer filter)."""
        try:
            await self._st.crm.get_customer(customer_id)
        except NotFoundError:
            raise NotFound(f"No customer with id {customer_id}. Use lookup_customer first.") from None
        locations = (await self._st.crm.list_locations(customer_id=customer_id, page_size=50)).data
        pages: list[Later] = []  # type: ignore[type-arg]
        async with anyio.create_task_group() as tg:
            names = Later(tg, self._reference.technician_names())
            for location in locations:
                pages.append(Later(tg, self._st.sales.list_estimates(location_id=location.id, status="Open")))
        found = [e for page in pages for e in page.value.data if _is_open(e)]
        estimates = [_open(e, names.value) for e in sorted(found, key=lambda e: e.createdOn, reverse=True)]
        note = (
            "Quote these totals exactly; never discount or re-price. Offer to have the technician or the "
            "office answer questions, and escalate_to_dispatcher if they want to buy or change the scope."
            if estimates
            else "No open estimates for this customer."
        )
        return OpenEstimatesResult(customer_id=customer_id, estimates=estimates, note=note)

    async def sweep(self) -> EstimateSweep:
        """Take every open estimate not yet followed up in as an ``Estimate Follow-up`` interaction."""
        since = self._now() - timedelta(days=self._settings.estimate_max_age_days)
        result = EstimateSweep(since=since)
        names = await self._reference.technician_names()
        async for estimate in self._st.sales.iter_estimates(status="Open", created_on_or_after=since):
            if not _is_open(estimate):
                continue
            await take_in_once(
                self._follow_ups,
                estimate.id,
                f"estimate {estimate.id}",
                self._now(),
                partial(self._take_in, _open(estimate, names), estimate),
                result,
            )
        return result

    async def _take_in(self, view: OpenEstimate, estimate: Estimate) -> IngestResult:
        if estimate.customerId is None:
            raise UserInputError("no customer on the estimate")
        async with anyio.create_task_group() as tg:
            customer = Later(tg, self._st.crm.get_customer(estimate.customerId))
            phones = Later(tg, self._customers.phones_of(estimate.customerId))
        if not phones.value:
            raise UserInputError("the customer has no phone number")
        address = customer.value.address
        if estimate.locationId is not None:
            address = (await self._customers.location(estimate.locationId)).address
        taken = await self._interactions.ingest_lead(
            FOLLOW_UP,
            name=customer.value.name,
            phone=phones.value[0],
            street=address.street,
            city=address.city,
            state=address.state,
            zip_code=address.zip,
            summary=f"Open estimate {view.number}: {view.words}. {view.summary or ''}".strip(),
            source=GOAL,
            goal=GOAL,
            kind="Customer",
        )
        if not taken.duplicate:
            await self._interactions.link_customer(
                taken.interaction_id, customer_id=estimate.customerId, location_id=estimate.locationId
            )
        return taken


def _is_open(estimate: Estimate) -> bool:
    return estimate.active and (estimate.status is None or estimate.status.name == "Open")


def _open(estimate: Estimate, technicians: dict[int, str]) -> OpenEstimate:
    sold_by = technicians.get(estimate.soldBy) if estimate.soldBy is not None else None
    quoted = estimate.createdOn.strftime("%b %-d")
    who = f" by {sold_by}" if sold_by else ""
    name = estimate.name or estimate.summary or f"Estimate {estimate.id}"
    return OpenEstimate(
        estimate_id=estimate.id,
        number=str(estimate.id),
        name=estimate.name,
        summary=estimate.summary,
        subtotal=estimate.subtotal,
        tax=estimate.tax,
        total=estimate.total,
        status=estimate.status.name if estimate.status else "Open",
        sold_by=sold_by,
        job_id=estimate.jobId,
        job_number=estimate.jobNumber,
        location_id=estimate.locationId,
        created_on=estimate.createdOn,
        items=[
            EstimateLine(description=i.description, quantity=i.qty, total=i.total)
            for i in estimate.items or []
        ],
        words=f"{name}: {dollars(estimate.total)} (quoted {quoted}{who})",
    )


async def sweep_forever(estimates: Estimates, interval_seconds: int, *, leader: Leader | None = None) -> None:
    async def once() -> str | None:
        result = await estimates.sweep()
        return f"took in {len(result.ingested)} estimate(s)" if result.ingested else None

    await repeat("estimate follow-up", interval_seconds, once, leader=leader)
