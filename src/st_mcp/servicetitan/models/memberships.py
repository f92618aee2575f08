"""Memberships module: customer memberships (service agreements a CSR should mention)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from st_mcp.servicetitan.models.common import StModel

MembershipStatus = Literal["Active", "Suspended", "Expired", "Canceled", "Deleted"]


class Membership(StModel):
    id: int
    status: MembershipStatus
    active: bool
    customerId: int
    businessUnitId: int
    membershipTypeId: int
    locationId: int | None = None
    billingFrequency: str | None = None
    # "from" is a Python keyword; the wire name is kept through the alias.
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None
    createdOn: datetime | None = None
    modifiedOn: datetime | None = None
