"""Memberships (``/memberships/v2``)."""

from __future__ import annotations

from collections.abc import Sequence

from st_mcp.servicetitan.models.common import Page
from st_mcp.servicetitan.models.memberships import Membership, MembershipStatus
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
