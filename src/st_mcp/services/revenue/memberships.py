"""Memberships: what a customer's plan includes and the plans on offer — only ServiceTitan's own types,
prices and discounts, so the agent never sells or quotes anything else — and the sales follow-up when a
customer is interested (a task-management task or a CRM lead, by ``[revenue] membership_follow_up``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

import anyio
from pydantic import BaseModel

from st_mcp.config import BookingSettings, EscalationSettings, RevenueSettings
from st_mcp.policy.identity import Principal
from st_mcp.services.bounds import short
from st_mcp.services.concurrency import Later
from st_mcp.services.errors import NotFound, UserInputError
from st_mcp.services.reference import ReferenceData
from st_mcp.services.revenue.money import price_words
from st_mcp.servicetitan import NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.crm import CreateLeadRequest, Customer
from st_mcp.servicetitan.models.memberships import MembershipType, RecurringServiceType
from st_mcp.servicetitan.models.tasks import CreateTaskRequest, TaskClientData

MAX_NOTE = 2000


class PlanPrice(BaseModel):
    billing_frequency: str
    price: float  # what is billed each period
    sign_up_price: float
    duration_months: int | None
    words: str  # "$18.00 a month (12 months)"


class MembershipTypeOffer(BaseModel):
    membership_type_id: int
    name: str
    prices: list[PlanPrice]
    visits_per_year: int
    included_services: list[str]  # the recurring services (tune-ups) the plan includes
    discount_percent: float  # off repairs
    discounts: list[str]  # per business unit, in words: "10% off Plumbing"


class CustomerMembership(BaseModel):
    membership_id: int
    membership_type_id: int
    name: str
    status: str
    location_id: int | None
    starts: datetime | None
    ends: datetime | None
    includes: MembershipTypeOffer | None  # None when the type is no longer on offer


class UpsellResult(BaseModel):
    customer_id: int
    customer_name: str
    is_member: bool
    memberships: list[CustomerMembership]
    membership_types: list[MembershipTypeOffer]
    note: str


class InterestResult(BaseModel):
    customer_id: int
    follow_up: Literal["task", "lead"]
    task_id: int | None = None
    task_number: int | None = None
    lead_id: int | None = None
    membership_type_id: int | None
    membership_type: str | None
    note: str


class Memberships:
    def __init__(
        self,
        st: ServiceTitanClient,
        reference: ReferenceData,
        settings: RevenueSettings,
        escalation: EscalationSettings,
        booking: BookingSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._st = st
        self._reference = reference
        self._settings = settings
        self._escalation = escalation
        self._booking = booking
        self._now = clock

    async def upsell(self, customer_id: int) -> UpsellResult:
        async with anyio.create_task_group() as tg:
            customer = Later(tg, self._customer(customer_id))
            held = Later(tg, self._st.memberships.list_memberships(customer_ids=[customer_id]))
            offers = Later(tg, self._offers(active_only=False))
        by_id = {o.membership_type_id: o for _, o in offers.value}
        memberships = [
            CustomerMembership(
                membership_id=m.id,
                membership_type_id=m.membershipTypeId,
                name=by_id[m.membershipTypeId].name if m.membershipTypeId in by_id else "Membership",
                status=m.status,
                location_id=m.locationId,
                starts=m.from_,
                ends=m.to,
                includes=by_id.get(m.membershipTypeId),
            )
            for m in held.value.data
            if m.status != "Deleted"
        ]
        is_member = any(m.status == "Active" for m in memberships)
        on_offer = [o for active, o in offers.value if active]
        if is_member:
            note = (
                f"{customer.value.name} is a member: thank them, mention what the plan includes and any due "
                "tune-up (book_maintenance_visit). Do not sell another plan unless they ask."
            )
        elif on_offer:
            note = (
                "Not a member. If it fits the conversation (never on an emergency call), offer these plans "
                "with exactly these prices and discounts — nothing else. If they are interested, "
                "record_membership_interest so the office follows up; do not sign them up yourself."
            )
        else:
            note = "Not a member, and ServiceTitan lists no membership plans on offer: do not offer one."
        return UpsellResult(
            customer_id=customer_id,
            customer_name=customer.value.name,
            is_member=is_member,
            memberships=memberships,
            membership_types=on_offer,
            note=note,
        )

    async def offers(self) -> list[MembershipTypeOffer]:
        """The membership types on offer (active), with what each includes."""
        return [offer for _, offer in await self._offers(active_only=True)]

    async def _offers(self, *, active_only: bool) -> list[tuple[bool, MembershipTypeOffer]]:
        async with anyio.create_task_group() as tg:
            kinds = Later(
                tg, self._st.memberships.list_membership_types(active="True" if active_only else "Any")
            )
            services = Later(tg, self._st.memberships.list_recurring_service_types())
            units = Later(tg, self._reference.business_units())
        service_by_id = {s.id: s for s in services.value.data}
        unit_names = {u.id: u.name for u in units.value}
        return [(kind.active, _offer(kind, service_by_id, unit_names)) for kind in kinds.value.data]

    async def record_interest(
        self,
        *,
        customer_id: int,
        membership_type_id: int | None,
        note: str,
        interaction_id: str | None,
        principal: Principal,
    ) -> InterestResult:
        if not note or not note.strip():
            raise UserInputError("'note' is required: what the customer said about a membership.")
        text = short(note.strip(), "note", MAX_NOTE)
        async with anyio.create_task_group() as tg:
            customer = Later(tg, self._customer(customer_id))
            offers = Later(tg, self.offers())
        chosen = None
        if membership_type_id is not None:
            chosen = next((o for o in offers.value if o.membership_type_id == membership_type_id), None)
            if chosen is None:
                names = ", ".join(f"{o.name} ({o.membership_type_id})" for o in offers.value) or "none"
                raise NotFound(
                    f"No membership type {membership_type_id} is on offer. Plans on offer: {names}. "
                    "Leave membership_type_id out if the customer has not chosen one."
                )
        plan = chosen.name if chosen else "a membership plan"
        lines = [
            f"{customer.value.name} is interested in {plan}.",
            f"What they said: {text}",
            "Follow up to explain the plan and sign them up; the agent quoted only ServiceTitan's prices.",
        ]
        if interaction_id:
            lines.append(f"Interaction: {interaction_id} (st-mcp)")
        description = "\n".join(lines)
        if self._settings.membership_follow_up == "lead":
            return await self._lead(customer.value, chosen, description)
        return await self._task(customer.value, chosen, description)

    async def _task(
        self, customer: Customer, chosen: MembershipTypeOffer | None, description: str
    ) -> InterestResult:
        data = await self._reference.task_data()
        now = self._now()
        task = await self._st.tasks.create_task(
            CreateTaskRequest(
                reportedById=_employee(data, self._escalation.reported_by, exclude=None),
                assignedToId=_employee(
                    data, self._escalation.assign_to, exclude=self._escalation.reported_by
                ),
                name=f"Membership interest: {customer.name}"[:200],
                businessUnitId=data.businessUnits[0].value,
                employeeTaskTypeId=_pick(data.taskTypes, self._settings.membership_task_type),
                employeeTaskSourceId=_pick(data.taskSources, self._escalation.task_source),
                reportedDate=now,
                priority="Normal",
                completeBy=now + timedelta(days=1),
                customerId=customer.id,
                description=description,
            )
        )
        return InterestResult(
            customer_id=customer.id,
            follow_up="task",
            task_id=task.id,
            task_number=task.taskNumber,
            membership_type_id=chosen.membership_type_id if chosen else None,
            membership_type=chosen.name if chosen else None,
            note=(
                f"The office will call about {chosen.name if chosen else 'a membership'} (ServiceTitan "
                f"task {task.taskNumber or task.id}). Tell the customer so; do not sign them up or promise a "
                "price other than the ones upsell_membership listed."
            ),
        )

    async def _lead(
        self, customer: Customer, chosen: MembershipTypeOffer | None, description: str
    ) -> InterestResult:
        campaign = await self._reference.campaign(self._booking.campaign)
        if campaign is None:
            raise RuntimeError(f"configured booking campaign '{self._booking.campaign}' does not exist")
        locations = (await self._st.crm.list_locations(customer_id=customer.id, page_size=1)).data
        lead = await self._st.crm.create_lead(
            CreateLeadRequest(
                campaignId=campaign.id,
                summary=description[:MAX_NOTE],
                customerId=customer.id,
                locationId=locations[0].id if locations else None,
                priority="Normal",
                followUpDate=self._now() + timedelta(days=1),
            )
        )
        return InterestResult(
            customer_id=customer.id,
            follow_up="lead",
            lead_id=lead.id,
            membership_type_id=chosen.membership_type_id if chosen else None,
            membership_type=chosen.name if chosen else None,
            note=(
                f"The office will follow up on ServiceTitan lead {lead.id}. Tell the customer someone will "
                "call about the membership; do not sign them up yourself."
            ),
        )

    async def _customer(self, customer_id: int) -> Customer:
        try:
            return await self._st.crm.get_customer(customer_id)
        except NotFoundError:
            raise NotFound(f"No customer with id {customer_id}. Use lookup_customer first.") from None


def _offer(
    kind: MembershipType, services: dict[int, RecurringServiceType], unit_names: dict[int, str]
) -> MembershipTypeOffer:
    included = [
        services[s.recurringServiceTypeId]
        for s in kind.recurringServices or []
        if s.recurringServiceTypeId in services
    ]
    prices = [
        PlanPrice(
            billing_frequency=b.billingFrequency,
            price=b.billingPrice,
            sign_up_price=b.salePrice,
            duration_months=b.duration,
            words=price_words(b.billingPrice, b.billingFrequency, b.salePrice, b.duration),
        )
        for b in kind.durationBilling or []
    ]
    return MembershipTypeOffer(
        membership_type_id=kind.id,
        name=kind.displayName or kind.name,
        prices=prices,
        visits_per_year=sum(_visits_per_year(s) for s in included),
        included_services=[s.name or f"Recurring service {s.id}" for s in included],
        discount_percent=kind.discount,
        discounts=[
            f"{d.discount:g}% off {unit_names.get(d.targetId, f'category {d.targetId}')}"
            for d in kind.discounts or []
        ],
    )


def _visits_per_year(service: RecurringServiceType) -> int:
    """Seasonal: one visit per listed month; the others by their interval."""
    interval = max(service.recurrenceInterval, 1)
    per_year = {"Seasonal": len(service.recurrenceMonths or []), "Monthly": 12 // interval}
    per_year |= {"Weekly": 52 // interval, "Daily": 365 // interval, "NthWeekdayOfMonth": 12 // interval}
    return per_year.get(service.recurrenceType, 1)


def _employee(data: TaskClientData, name: str | None, *, exclude: str | None) -> int:
    """The named active employee, else the first active one who is not ``exclude`` (as escalations do)."""
    active = [e for e in data.employees if e.active]
    named = [e for e in active if name and e.name.casefold() == name.casefold()]
    others = [e for e in active if not exclude or e.name.casefold() != exclude.casefold()]
    if not (named or others):
        raise RuntimeError("ServiceTitan task management lists no active employees")
    return (named or others)[0].id


def _pick(items: list, name: str) -> int:  # type: ignore[type-arg]
    named = [item for item in items if item.name.casefold() == name.casefold()]
    if not (named or items):
        raise RuntimeError(f"ServiceTitan task management has no '{name}' entries")
    return int((named or items)[0].id)
