"""Maintenance reminders: each member's tune-up coming due becomes one interaction with goal
``Maintenance Reminder`` through ``ingest_lead`` (the same dedupe, service-area check and gate), worked from
``get_lead_queue`` with the ``maintenance_reminder`` prompt and booked with ``book_maintenance_visit``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import anyio

from st_mcp.config import RevenueSettings
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.concurrency import Later
from st_mcp.services.customers import Customers
from st_mcp.services.errors import UserInputError
from st_mcp.services.interactions.models import IngestResult
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.periodic import Leader, repeat
from st_mcp.services.revenue.followups import FollowUpSweep, take_in_once
from st_mcp.servicetitan import NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.memberships import RecurringServiceEvent
from st_mcp.store.revenue import FollowUpClaims

REMINDER = Principal("maintenance-reminder", SYSTEM_ROLE)
GOAL = "Maintenance Reminder"


class ReminderSweep(FollowUpSweep):
    pass


class MaintenanceReminders:
    def __init__(
        self,
        st: ServiceTitanClient,
        customers: Customers,
        interactions: Interactions,
        claims: FollowUpClaims,
        settings: RevenueSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._st = st
        self._customers = customers
        self._interactions = interactions
        self._claims = claims
        self._settings = settings
        self._now = clock

    async def sweep(self) -> ReminderSweep:
        """Take every member's tune-up due within the window, not yet attempted, in once."""
        now = self._now()
        horizon = now + timedelta(days=self._settings.maintenance_window_days)
        result = ReminderSweep()
        async for event in self._st.memberships.iter_recurring_service_events(status="NotAttempted"):
            if event.membershipId is None or not now <= event.date <= horizon:
                continue
            await take_in_once(
                self._claims, event.id, f"event {event.id}", now, partial(self._take_in, event), result
            )
        return result

    async def _take_in(self, event: RecurringServiceEvent) -> IngestResult:
        assert event.membershipId is not None
        try:
            membership = await self._st.memberships.get_membership(event.membershipId)
        except NotFoundError:
            raise UserInputError("its membership is gone") from None
        if membership.status != "Active":
            raise UserInputError(f"the membership is {membership.status}")
        async with anyio.create_task_group() as tg:
            customer = Later(tg, self._st.crm.get_customer(membership.customerId))
            phones = Later(tg, self._customers.phones_of(membership.customerId))
        if not phones.value:
            raise UserInputError("the member has no phone number")
        address = customer.value.address
        if membership.locationId is not None:
            address = (await self._customers.location(membership.locationId)).address
        name = event.locationRecurringServiceName or "Tune-up"
        taken = await self._interactions.ingest_lead(
            REMINDER,
            name=customer.value.name,
            phone=phones.value[0],
            street=address.street,
            city=address.city,
            state=address.state,
            zip_code=address.zip,
            summary=f"{name} due {event.date:%b %-d}, included in the {event.membershipName or 'membership'} "
            f"(recurring service event {event.id}). Book it with book_maintenance_visit.",
            source=GOAL,
            goal=GOAL,
            kind="Customer",
        )
        if not taken.duplicate:
            await self._interactions.link_customer(
                taken.interaction_id, customer_id=membership.customerId, location_id=membership.locationId
            )
        return taken


async def remind_forever(
    reminders: MaintenanceReminders, interval_seconds: int, *, leader: Leader | None = None
) -> None:
    async def once() -> str | None:
        result = await reminders.sweep()
        return f"took in {len(result.ingested)} tune-up(s)" if result.ingested else None

    await repeat("maintenance reminders", interval_seconds, once, leader=leader)
