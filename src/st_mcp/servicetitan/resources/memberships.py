"""Memberships (``/memberships/v2``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from st_mcp.servicetitan.models.common import ActiveFilter, Page
from st_mcp.servicetitan.models.memberships import (
    MarkEventCompleteRequest,
    Membership,
    MembershipStatus,
    MembershipType,
    RecurringEventStatus,
    RecurringServiceEvent,
    RecurringServiceType,
)
from st_mcp.servicetitan.resources._base import ResourceGroup


class MembershipsApi(ResourceGroup):
    module = "memberships"

    async def list_memberships(
        self, *, customer_ids: Sequence[int] | None = None, status: MembershipStatus | None = None
    ) -> Page[Membership]:
        params = {"customerIds": customer_ids, "status": status}
        return await self._list("memberships", Membership, params, page_size=200)

    async def get_membership(self, membership_id: int) -> Membership:
        return await self._get(f"memberships/{membership_id}", Membership)

    async def list_membership_types(self, *, active: ActiveFilter | None = None) -> Page[MembershipType]:
        params = {
            "active": active,
            "includeDurationBilling": True,
            "includeDiscounts": True,
            "includeRecurringServices": True,
        }
        return await self._list("membership-types", MembershipType, params, page_size=100)

    async def list_recurring_service_types(
        self, *, ids: Sequence[int] | None = None
    ) -> Page[RecurringServiceType]:
        return await self._list("recurring-service-types", RecurringServiceType, {"ids": ids}, page_size=100)

    async def list_recurring_service_events(
        self, *, location_id: int | None = None, status: RecurringEventStatus | None = None
    ) -> Page[RecurringServiceEvent]:
        params = {"locationId": location_id, "status": status}
        return await self._list("recurring-service-events", RecurringServiceEvent, params, page_size=200)

    def iter_recurring_service_events(
        self, *, status: RecurringEventStatus
    ) -> AsyncIterator[RecurringServiceEvent]:
        return self._iterate("recurring-service-events", RecurringServiceEvent, {"status": status})

    async def mark_event_complete(self, event_id: int, job_id: int) -> None:
        # Repeatable: marking the same event done by the same job twice changes nothing.
        await self._write(
            "POST",
            f"recurring-service-events/{event_id}/mark-complete",
            MarkEventCompleteRequest(jobId=job_id),
            repeatable=True,
        )
