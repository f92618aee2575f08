"""CRM bookings of a booking provider: requests a CSR confirms (and converts into a job) in ServiceTitan."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from st_mcp.servicetitan.models.common import Priority, StModel, StRequest

BookingStatus = Literal["New", "Converted", "Dismissed", "Accepted"]


class BookingAddressInput(StRequest):
    street: str
    unit: str | None = None
    city: str
    state: str
    zip: str
    country: str = "USA"


class BookingContactInput(StRequest):
    type: Literal["Phone", "Email", "Fax", "MobilePhone"]
    value: str
    memo: str | None = None


class CreateBookingRequest(StRequest):
    source: str
    name: str
    summary: str
    isFirstTimeClient: bool
    externalId: str  # our idempotency key: how a booking whose create timed out is found again
    address: BookingAddressInput | None = None
    contacts: list[BookingContactInput] | None = None
    customerType: Literal["Residential", "Commercial"] | None = None
    start: datetime | None = None
    campaignId: int | None = None
    businessUnitId: int | None = None
    jobTypeId: int | None = None
    priority: Priority | None = None
    isSendConfirmationEmail: bool | None = None


class Booking(StModel):
    id: int
    source: str
    name: str
    start: datetime
    status: BookingStatus
    externalId: str
    bookingProviderId: int
    jobId: int | None = None
    jobTypeId: int | None = None
    businessUnitId: int | None = None
    summary: str | None = None
    createdOn: datetime
    modifiedOn: datetime
