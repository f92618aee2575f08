"""Memberships module: customer memberships (service agreements a CSR should mention)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from st_mcp.servicetitan.models.common import StModel, StRequest

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


# -- what a membership includes: types, their billing and discounts, recurring services ---------------
class MembershipDurationBilling(StModel):
    duration: int | None = None
    billingFrequency: str
    salePrice: float
    billingPrice: float
    renewalPrice: float


class MembershipDiscount(StModel):
    targetId: int
    discount: float


class MembershipRecurringService(StModel):
    membershipTypeId: int
    recurringServiceTypeId: int


class MembershipType(StModel):
    id: int
    name: str
    displayName: str | None = None
    active: bool
    discount: float
    discountMode: str | None = None
    durationBilling: list[MembershipDurationBilling] | None = None
    discounts: list[MembershipDiscount] | None = None
    recurringServices: list[MembershipRecurringService] | None = None


class RecurringServiceType(StModel):
    id: int
    name: str | None = None
    active: bool
    recurrenceType: str
    recurrenceInterval: int
    recurrenceMonths: list[str] | None = None
    jobTypeId: int | None = None
    businessUnitId: int | None = None
    jobSummary: str | None = None


RecurringEventStatus = Literal["NotAttempted", "Unreachable", "Contacted", "Won", "Dismissed"]


class RecurringServiceEvent(StModel):
    id: int
    locationRecurringServiceId: int
    locationRecurringServiceName: str | None = None
    membershipId: int | None = None
    membershipName: str | None = None
    status: RecurringEventStatus
    date: datetime
    jobId: int | None = None


class MarkEventCompleteRequest(StRequest):
    jobId: int
