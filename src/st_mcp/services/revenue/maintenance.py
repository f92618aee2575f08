"""A member's maintenance visit: the recurring service events (tune-ups) due soon, real windows for them
from capacity, and the booking — through the one booking service, with all of book_job's guarantees —
linked to its event: ServiceTitan's ``recurring-service-events/{id}/mark-complete`` with the job, which is
how a CSR fulfils a membership visit. In booking-request mode the event is marked when the office converts
the request (``conversions.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel

from st_mcp.config import RevenueSettings
from st_mcp.policy.identity import Principal
from st_mcp.services.availability import Availability, Slot
from st_mcp.services.booking import Booking, BookingResult
from st_mcp.services.catalog import Catalog
from st_mcp.services.customers import Customers
from st_mcp.services.errors import NotFound, Refused, UserInputError
from st_mcp.servicetitan import ApiError, ServiceTitanClient, UpstreamUnavailableError
from st_mcp.servicetitan.models.jpm import JobType
from st_mcp.servicetitan.models.memberships import Membership, RecurringServiceEvent

OVERDUE_DAYS = 60  # a tune-up missed this recently is still offered


class DueEvent(BaseModel):
    event_id: int
    name: str  # "AC Tune-Up"
    membership_id: int | None
    membership_name: str | None
    due_date: datetime
    status: str
    job_id: int | None


class MaintenanceResult(BaseModel):
    customer_id: int
    location_id: int | None
    due_events: list[DueEvent]
    slots: list[Slot]
    booking: BookingResult | None = None
    event_marked_complete: bool = False
    note: str


class MaintenanceVisits:
    def __init__(
        self,
        st: ServiceTitanClient,
        catalog: Catalog,
        customers: Customers,
        availability: Availability,
        booking: Booking,
        settings: RevenueSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._st = st
        self._catalog = catalog
        self._customers = customers
        self._availability = availability
        self._booking = booking
        self._settings = settings
        self._now = clock

    async def visit(
        self,
        *,
        customer_id: int,
        location_id: int | None,
        slot_id: str | None,
        event_id: int | None,
        idempotency_key: str | None,
        interaction_id: str | None,
        principal: Principal,
    ) -> MaintenanceResult:
        members = await self._active_memberships(customer_id)
        location_id = await self._location(customer_id, location_id, members)
        events, done = await self._due(location_id, {m.id for m in members}, event_id)
        due = [_due(e) for e in events]
        if slot_id is None:
            return await self._offer(customer_id, location_id, events, due)
        if not events and done:  # a retry after the visit was booked and linked: nothing more to do
            return MaintenanceResult(
                customer_id=customer_id, location_id=location_id, due_events=[_due(e) for e in done],
                slots=[], event_marked_complete=True,
                note=f"Already booked and linked: job {done[0].jobId}. Nothing new was created.",
            )  # fmt: skip
        if not events:
            raise Refused(
                "No tune-up is due at this location, so there is nothing to book as a membership visit. "
                "Use get_available_slots and book_job for other work."
            )
        event = events[0]
        job_type = await self._job_type(event)
        booked = await self._booking.book(
            customer_id=customer_id,
            location_id=location_id,
            slot_id=slot_id,
            summary=f"{event.locationRecurringServiceName or job_type.name} — "
            f"{event.membershipName or 'membership'} visit (recurring service event {event.id})",
            interaction_id=interaction_id,
            idempotency_key=idempotency_key or f"maintenance-event:{event.id}",
            principal=principal,
            recurring_event_id=event.id,
        )
        if booked.job_id is None:  # booking-request mode: marked once the office converts it
            return MaintenanceResult(
                customer_id=customer_id, location_id=location_id, due_events=due, slots=[], booking=booked,
                note=f"{booked.note} The tune-up is marked done when the office converts the request.",
            )  # fmt: skip
        marked = await self._mark_complete(event.id, booked.job_id)
        return MaintenanceResult(
            customer_id=customer_id,
            location_id=location_id,
            due_events=due,
            slots=[],
            booking=booked,
            event_marked_complete=marked,
            note=booked.note
            + (
                f" The {event.locationRecurringServiceName or 'tune-up'} is linked to job "
                f"{booked.job_number}."
                if marked
                else " ServiceTitan did not confirm linking the tune-up to the job; call book_maintenance_"
                "visit again with the same idempotency_key to finish it (no second job is made)."
            ),
        )

    async def _offer(
        self, customer_id: int, location_id: int, events: list[RecurringServiceEvent], due: list[DueEvent]
    ) -> MaintenanceResult:
        if not events:
            return MaintenanceResult(
                customer_id=customer_id, location_id=location_id, due_events=[], slots=[],
                note=f"No tune-up is due in the next {self._settings.maintenance_window_days} days.",
            )  # fmt: skip
        job_type = await self._job_type(events[0])
        location = await self._customers.location(location_id)
        offer = await self._availability.offer(
            job_type, location.address.zip, location_id=location_id, now=self._now()
        )
        names = ", ".join(f"{d.name} (due {d.due_date:%b %-d})" for d in due)
        note = (
            f"Due: {names}. Offer 2–3 of these windows by label, then call book_maintenance_visit again "
            "with the chosen slot_id; the visit is booked and linked to the tune-up."
            if offer.slots
            else f"Due: {names}. {offer.explanation or 'No windows are open.'}"
        )
        return MaintenanceResult(
            customer_id=customer_id, location_id=location_id, due_events=due, slots=offer.slots, note=note
        )

    async def _active_memberships(self, customer_id: int) -> list[Membership]:
        members = (
            await self._st.memberships.list_memberships(customer_ids=[customer_id], status="Active")
        ).data
        if not members:
            raise Refused(
                "This customer has no active membership, so no tune-up is included. Use upsell_membership "
                "to see the plans on offer, or get_available_slots and book_job for paid maintenance."
            )
        return members

    async def _location(self, customer_id: int, location_id: int | None, members: list[Membership]) -> int:
        if location_id is not None:
            await self._customers.customer_and_location(customer_id, location_id)
            return location_id
        covered = [m.locationId for m in members if m.locationId is not None]
        if covered:
            return covered[0]
        locations = (await self._st.crm.list_locations(customer_id=customer_id, page_size=2)).data
        if len(locations) != 1:
            raise UserInputError("Give location_id: which service address is the visit for?")
        return locations[0].id

    async def _due(
        self, location_id: int, membership_ids: set[int], event_id: int | None
    ) -> tuple[list[RecurringServiceEvent], list[RecurringServiceEvent]]:
        """(due, done): not yet attempted events of this location's memberships, due (or recently
        missed) within the window, soonest first; and those of the window already done by a job."""
        now = self._now()
        horizon = now + timedelta(days=self._settings.maintenance_window_days)
        found = (await self._st.memberships.list_recurring_service_events(location_id=location_id)).data
        mine = [e for e in found if e.membershipId is None or e.membershipId in membership_ids]
        if event_id is not None:
            mine = [e for e in mine if e.id == event_id]
            if not mine:
                raise NotFound(
                    f"No tune-up {event_id} at this location. Leave event_id out to use the due one."
                )
        window = sorted(
            (e for e in mine if now - timedelta(days=OVERDUE_DAYS) <= e.date <= horizon), key=lambda e: e.date
        )
        due = [e for e in window if e.status == "NotAttempted"]
        done = [e for e in window if e.status == "Won" and e.jobId is not None]
        return due, done

    async def _job_type(self, event: RecurringServiceEvent) -> JobType:
        """The recurring service type's job type (matched by name), else the configured maintenance type."""
        kinds = (await self._st.memberships.list_recurring_service_types()).data
        kind = next((k for k in kinds if k.name and k.name == event.locationRecurringServiceName), None)
        if kind is not None and kind.jobTypeId is not None:
            return await self._catalog.job_type(kind.jobTypeId)
        return await self._catalog.job_type(self._settings.maintenance_job_type)

    async def _mark_complete(self, event_id: int, job_id: int) -> bool:
        try:
            await self._st.memberships.mark_event_complete(event_id, job_id)
        except (ApiError, UpstreamUnavailableError):
            return False
        return True


def _due(event: RecurringServiceEvent) -> DueEvent:
    return DueEvent(
        event_id=event.id,
        name=event.locationRecurringServiceName or "Tune-up",
        membership_id=event.membershipId,
        membership_name=event.membershipName,
        due_date=event.date,
        status=event.status,
        job_id=event.jobId,
    )
