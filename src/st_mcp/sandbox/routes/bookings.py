"""CRM bookings of a booking provider: requests a CSR confirms in ServiceTitan's booking inbox (and
converts into a job there — see ``sandbox/revenue.py`` for the sandbox's stand-in)."""

from __future__ import annotations

from ..bodies import Body, ContactType, Priority, UtcDatetime, require_text
from ..entities import Address, BookingProvider, CrmBooking
from ..paging import ListOptions, paged
from ..problems import not_found
from ..routing import Call, Router, get_or_404, referenced
from ..views import revenue as rv

router = Router()
CRM = "/crm/v2/tenant/{tenant}"
PROVIDER = f"{CRM}/booking-provider/{{booking_provider}}"
BOOKINGS = ListOptions(active_default=None)
CUSTOMER_TYPES = ("Residential", "Commercial")


class BookingAddress(Body):
    street: str
    unit: str | None = None
    city: str
    state: str
    zip: str
    country: str


class BookingContact(Body):
    type: ContactType
    value: str
    memo: str | None = None


class CreateBooking(Body):
    source: str
    name: str
    address: BookingAddress | None = None
    contacts: list[BookingContact] | None = None
    customerType: str | None = None
    start: UtcDatetime | None = None
    summary: str
    campaignId: int | None = None
    businessUnitId: int | None = None
    jobTypeId: int | None = None
    priority: Priority | None = None
    isFirstTimeClient: bool
    uploadedImages: list[str] | None = None
    isSendConfirmationEmail: bool | None = None
    externalId: str


def _provider(call: Call) -> BookingProvider:
    return get_or_404(call.tenant.booking_providers, call.path_id("booking_provider"), "Booking provider")


@router.post(f"{PROVIDER}/bookings")
async def create_booking(call: Call) -> dict:
    tenant, now = call.tenant, call.tenant.now()
    provider = _provider(call)
    body = await call.body(CreateBooking)
    require_text("name", body.name)
    require_text("summary", body.summary)
    require_text("externalId", body.externalId)
    if body.campaignId is not None:
        referenced(tenant.campaigns, body.campaignId, "campaignId", "Campaign")
    if body.businessUnitId is not None:
        referenced(tenant.business_units, body.businessUnitId, "businessUnitId", "Business unit")
    if body.jobTypeId is not None:
        referenced(tenant.job_types, body.jobTypeId, "jobTypeId", "Job type")
    a = body.address
    booking = CrmBooking(
        id=tenant.new_id("booking"),
        booking_provider_id=provider.id,
        source=body.source,
        name=body.name,
        address=Address(a.street, a.city, a.state, a.zip, a.country, a.unit) if a else None,
        customer_type=body.customerType if body.customerType in CUSTOMER_TYPES else "Residential",
        start=body.start,
        summary=body.summary,
        external_id=body.externalId,
        is_first_time_client=body.isFirstTimeClient,
        created_on=now,
        modified_on=now,
        campaign_id=body.campaignId,
        business_unit_id=body.businessUnitId,
        job_type_id=body.jobTypeId,
        priority=body.priority or "Normal",
        is_send_confirmation_email=body.isSendConfirmationEmail,
        uploaded_images=list(body.uploadedImages or []),
        contacts=[(c.type, c.value, c.memo) for c in body.contacts or []],
    )
    tenant.bookings[booking.id] = booking
    return rv.booking(booking)


@router.get(f"{PROVIDER}/bookings")
async def list_provider_bookings(call: Call) -> dict:
    provider = _provider(call)
    external_id = call.query.str("externalId")
    rows = [
        b
        for b in call.tenant.bookings.values()
        if b.booking_provider_id == provider.id and (external_id is None or b.external_id == external_id)
    ]
    return paged(call.query, rows, rv.booking, BOOKINGS)


@router.get(f"{PROVIDER}/bookings/{{id}}")
async def get_provider_booking(call: Call) -> dict:
    provider = _provider(call)
    booking = get_or_404(call.tenant.bookings, call.path_id(), "Booking")
    if booking.booking_provider_id != provider.id:  # another provider's booking is not this one's to see
        raise not_found("Booking", booking.id)
    return rv.booking(booking)
