"""CRM: customers, locations, their contacts and notes, and leads (and their export feed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .. import external, filters
from ..bodies import (
    Body,
    ContactType,
    ExternalDataCreate,
    ExternalDataUpdate,
    Priority,
    UtcDatetime,
    require_text,
)
from ..entities import Address, Contact, Customer, CustomField, Lead, Location, Note
from ..exports import export_feed
from ..paging import PLAIN, STANDARD, ListOptions, paged
from ..problems import ProblemError, bad_request, conflict
from ..query import Query
from ..routing import Call, Router, get_or_404, referenced, referenced_all
from ..state import SandboxTenant, phone_digits, phone_matches
from ..times import iso
from ..views import crm as v

router = Router()
CRM = "/crm/v2/tenant/{tenant}"
NOTES = ListOptions(sort_fields={}, active_default=None, ids=False)
NO_ACTIVE = ListOptions(active_default=None)


# -- bodies ------------------------------------------------------------------------------------------
class AddressIn(Body):
    street: str
    unit: str | None = None
    city: str
    state: str
    zip: str
    country: str
    latitude: float | None = None
    longitude: float | None = None


class UpdateAddressIn(Body):
    # UpdateCustomerAddress: every field is required when an address is sent.
    street: str
    unit: str
    city: str
    state: str
    zip: str
    country: str
    latitude: float
    longitude: float


class NewContact(Body):
    type: ContactType
    value: str
    memo: str | None = None


class CustomFieldIn(Body):
    typeId: int
    value: str


class NewLocation(Body):
    name: str
    address: AddressIn
    contacts: list[NewContact] | None = None
    customFields: list[CustomFieldIn] | None = None
    tagTypeIds: list[int] | None = None
    externalData: ExternalDataCreate | None = None
    coordinatesSource: Literal["None", "System", "User", "Imported"] | None = None
    coordinatesVerificationStatus: Literal["Unverified", "InProgress", "Failed", "Verified"] | None = None


class CreateLocation(NewLocation):
    customerId: int


class CreateCustomer(Body):
    name: str
    type: Literal["Residential", "Commercial"] | None = None
    doNotMail: bool | None = None
    doNotService: bool | None = None
    nationalAccount: bool | None = None
    locations: list[NewLocation]
    address: AddressIn
    contacts: list[NewContact] | None = None
    customFields: list[CustomFieldIn] | None = None
    tagTypeIds: list[int] | None = None
    externalData: ExternalDataCreate | None = None
    taxExempt: bool | None = None
    paymentTermId: int | None = None
    creditLimit: float | None = None
    creditLimitBalance: float | None = None


class UpdateCustomer(Body):
    name: str | None = None
    type: Literal["Residential", "Commercial"] | None = None
    address: UpdateAddressIn | None = None
    customFields: list[CustomFieldIn] | None = None
    externalData: ExternalDataUpdate | None = None
    doNotMail: bool | None = None
    doNotService: bool | None = None
    nationalAccount: bool | None = None
    active: bool | None = None
    tagTypeIds: list[int] | None = None
    taxExempt: bool | None = None
    paymentTermId: int | None = None
    creditLimit: float | None = None
    creditLimitBalance: float | None = None


class CreateCustomerNote(Body):
    text: str
    pinToTop: bool | None = None
    addToLocations: bool | None = None


class CreateLead(Body):
    customerId: int | None = None
    locationId: int | None = None
    campaignId: int
    businessUnitId: int | None = None
    jobTypeId: int | None = None
    summary: str
    tagTypeIds: list[int] | None = None
    priority: Priority | None = None
    callReasonId: int | None = None
    followUpDate: UtcDatetime | None = None
    bookingId: int | None = None
    leadCustomerName: str | None = None
    leadPhone: str | None = None
    leadEmail: str | None = None
    leadStreet: str | None = None
    leadUnit: str | None = None
    leadCity: str | None = None
    leadState: str | None = None
    leadZip: str | None = None
    leadCountry: str | None = None


class UpdateLead(Body):
    campaignId: int | None = None
    priority: Priority | None = None
    businessUnitId: int | None = None
    jobTypeId: int | None = None
    summary: str | None = None
    leadCustomerName: str | None = None
    leadPhone: str | None = None
    leadEmail: str | None = None
    leadStreet: str | None = None
    leadUnit: str | None = None
    leadCity: str | None = None
    leadState: str | None = None
    leadZip: str | None = None
    leadCountry: str | None = None


class FollowUp(Body):
    followUpDate: UtcDatetime
    text: str | None = None
    pinToTop: bool | None = None


class LeadNote(Body):
    text: str
    pinToTop: bool | None = None


class DismissLead(Body):
    dismissingReasonId: int


# -- helpers -------------------------------------------------------------------------------------------
def _address(a: AddressIn | UpdateAddressIn, field: str) -> Address:
    for name in ("street", "city", "state", "zip", "country"):
        require_text(f"{field}.{name}", getattr(a, name))
    return Address(
        street=a.street,
        unit=a.unit or None,
        city=a.city,
        state=a.state,
        zip=a.zip,
        country=a.country,
        latitude=a.latitude,
        longitude=a.longitude,
    )


def _contact(tenant: SandboxTenant, c: NewContact, field: str, now: datetime) -> Contact:
    require_text(f"{field}.value", c.value)
    if c.type in ("Phone", "MobilePhone", "Fax") and len(phone_digits(c.value)) != 10:
        raise bad_request(f"{field}.value", f"'{c.value}' is not a valid phone number.")
    return Contact(tenant.new_id("contact"), c.type, c.value.strip(), c.memo, now, now)


def _same_contact(a: Contact, b: Contact) -> bool:
    if a.type != b.type:
        return False
    if a.type in ("Phone", "MobilePhone", "Fax"):
        return phone_digits(a.value) == phone_digits(b.value)
    return a.value.casefold() == b.value.casefold()


def _custom_fields(items: list[CustomFieldIn] | None) -> list[CustomField]:
    return [CustomField(type_id=f.typeId, name=f"Custom {f.typeId}", value=f.value) for f in items or []]


def _address_filters(query: Query, get: Callable[[Any], Address]) -> list[filters.Predicate | None]:
    """street/unit/city/state/country: case-insensitive contains; zip: prefix (so "802" finds Denver)."""
    predicates = [
        filters.contains(query, name, lambda row, name=name: getattr(get(row), name))
        for name in ("street", "unit", "city", "state", "country")
    ]
    zip_code = query.str("zip")
    if zip_code:
        predicates.append(lambda row: get(row).zip.startswith(zip_code))
    for name in ("latitude", "longitude"):  # exact coordinates, as stored on the address
        wanted = query.float(name)
        if wanted is not None:
            predicates.append(lambda row, name=name, wanted=wanted: getattr(get(row), name) == wanted)
    return predicates


def _new_location(
    tenant: SandboxTenant, customer_id: int, body: NewLocation, field: str, now: datetime
) -> Location:
    require_text(f"{field}.name", body.name)
    address = _address(body.address, f"{field}.address")
    zone = tenant.zone_for_zip(address.zip)
    location = Location(
        id=tenant.new_id("location"),
        customer_id=customer_id,
        name=body.name,
        address=address,
        created_on=now,
        modified_on=now,
        created_by_id=tenant.api_user_id,
        zone_id=zone.id if zone else None,
        tag_type_ids=referenced_all(tenant.tag_types, body.tagTypeIds, f"{field}.tagTypeIds", "Tag type"),
        custom_fields=_custom_fields(body.customFields),
        contacts=[
            _contact(tenant, c, f"{field}.contacts[{i}]", now) for i, c in enumerate(body.contacts or [])
        ],
    )
    if body.externalData:
        pairs = [(x.key, x.value) for x in body.externalData.externalData]
        external.store(location.external_data, body.externalData.applicationGuid, pairs)
    return location


# -- customers -----------------------------------------------------------------------------------------
@router.get(f"{CRM}/customers")
async def list_customers(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    rows = list(tenant.customers.values())
    phone = q.str("phone")
    # The sandbox's customers change only through the API, never through accounting: excluding
    # accounting changes from the modified range leaves the same rows. Still bound (and checked).
    q.bool("excludeAccountingChangesFromModifiedDateRange")
    rows = filters.apply(
        rows,
        [
            filters.contains(q, "name", lambda c: c.name),
            (lambda c: phone_matches(tenant.customer_phones(c), phone)) if phone else None,
            external.external_filter(q),
            *_address_filters(q, lambda c: c.address),
        ],
    )
    guid = external.requested_guid(q)
    return paged(q, rows, lambda c: v.customer(c, guid), STANDARD)


@router.get(f"{CRM}/customers/{{id}}")
async def get_customer(call: Call) -> dict:
    customer = get_or_404(call.tenant.customers, call.path_id(), "Customer")
    return v.customer(customer, external.requested_guid(call.query))


@router.post(f"{CRM}/customers")
async def create_customer(call: Call) -> dict:
    body = await call.body(CreateCustomer)
    tenant, now = call.tenant, call.tenant.now()
    require_text("name", body.name)
    if not body.locations:
        raise bad_request("locations", "At least one location is required.")
    customer = Customer(
        id=tenant.new_id("customer"),
        name=body.name.strip(),
        type=body.type or "Residential",
        address=_address(body.address, "address"),
        created_on=now,
        modified_on=now,
        created_by_id=tenant.api_user_id,
        do_not_mail=bool(body.doNotMail),
        do_not_service=bool(body.doNotService),
        national_account=bool(body.nationalAccount),
        tax_exempt=bool(body.taxExempt),
        payment_term_id=body.paymentTermId,
        credit_limit=body.creditLimit,
        credit_limit_balance=body.creditLimitBalance,
        tag_type_ids=referenced_all(tenant.tag_types, body.tagTypeIds, "tagTypeIds", "Tag type"),
        custom_fields=_custom_fields(body.customFields),
        contacts=[_contact(tenant, c, f"contacts[{i}]", now) for i, c in enumerate(body.contacts or [])],
    )
    locations = [
        _new_location(tenant, customer.id, loc, f"locations[{i}]", now)
        for i, loc in enumerate(body.locations)
    ]
    # A contact given on a new location is copied to the customer as well (ServiceTitan CRM docs).
    for location in locations:
        for contact in location.contacts:
            if not any(_same_contact(contact, c) for c in customer.contacts):
                copy = Contact(tenant.new_id("contact"), contact.type, contact.value, contact.memo, now, now)
                customer.contacts.append(copy)
    if body.externalData:
        pairs = [(x.key, x.value) for x in body.externalData.externalData]
        external.store(customer.external_data, body.externalData.applicationGuid, pairs)
    tenant.customers[customer.id] = customer
    for location in locations:
        tenant.locations[location.id] = location
    guid = body.externalData.applicationGuid if body.externalData else None
    return v.created_customer(customer, locations, guid)


@router.patch(f"{CRM}/customers/{{id}}")
async def update_customer(call: Call) -> dict:
    tenant = call.tenant
    customer = get_or_404(tenant.customers, call.path_id(), "Customer")
    body = await call.body(UpdateCustomer)
    if body.name is not None:
        customer.name = require_text("name", body.name).strip()
    if body.address is not None:
        customer.address = _address(body.address, "address")
    if body.tagTypeIds is not None:
        customer.tag_type_ids = referenced_all(tenant.tag_types, body.tagTypeIds, "tagTypeIds", "Tag type")
    if body.customFields is not None:
        customer.custom_fields = _custom_fields(body.customFields)
    for field, attribute in (
        ("type", "type"),
        ("doNotMail", "do_not_mail"),
        ("doNotService", "do_not_service"),
        ("nationalAccount", "national_account"),
        ("active", "active"),
        ("taxExempt", "tax_exempt"),
        ("paymentTermId", "payment_term_id"),
        ("creditLimit", "credit_limit"),
        ("creditLimitBalance", "credit_limit_balance"),
    ):
        value = getattr(body, field)
        if value is not None:
            setattr(customer, attribute, value)
    guid = None
    if body.externalData is not None:
        guid = body.externalData.applicationGuid
        pairs = [(x.key, x.value) for x in body.externalData.externalData]
        external.store(customer.external_data, guid, pairs, merge=body.externalData.patchMode == "Merge")
    customer.modified_on = tenant.now()
    return v.customer(customer, guid)


@router.get(f"{CRM}/customers/{{id}}/contacts")
async def list_customer_contacts(call: Call) -> dict:
    customer = get_or_404(call.tenant.customers, call.path_id(), "Customer")
    return paged(call.query, customer.contacts, v.customer_contact, PLAIN)


@router.post(f"{CRM}/customers/{{id}}/contacts")
async def create_customer_contact(call: Call) -> dict:
    tenant = call.tenant
    customer = get_or_404(tenant.customers, call.path_id(), "Customer")
    body = await call.body(NewContact)
    contact = _contact(tenant, body, "value", tenant.now())
    if any(_same_contact(contact, c) for c in customer.contacts):
        raise conflict(f"The customer already has the {contact.type} contact '{contact.value}'.")
    customer.contacts.append(contact)
    customer.modified_on = contact.created_on
    return v.customer_contact(contact)


@dataclass(frozen=True)
class _OwnedContact:
    contact: Contact
    customer_id: int

    @property
    def id(self) -> int:
        return self.contact.id

    @property
    def created_on(self) -> datetime:
        return self.contact.created_on

    @property
    def modified_on(self) -> datetime:
        return self.contact.modified_on


@router.get(f"{CRM}/customers/contacts")
async def list_contacts_of_customers(call: Call) -> dict:
    q = call.query
    customer_ids = q.int_list("customerIds")
    if customer_ids is None and q.raw("modifiedBefore") is None and q.raw("modifiedOnOrAfter") is None:
        raise bad_request(
            "customerIds", "Either customerIds, modifiedBefore or modifiedOnOrAfter must be specified."
        )
    rows = [
        _OwnedContact(contact, customer.id)
        for customer in call.tenant.customers.values()
        if customer_ids is None or customer.id in customer_ids
        for contact in customer.contacts
    ]

    def serialize(row: _OwnedContact) -> dict:
        return v.customer_contact_with_customer(row.contact, row.customer_id)

    return paged(q, rows, serialize, ListOptions(sort_fields={}, active_default=None, ids=False))


@router.get(f"{CRM}/customers/{{id}}/notes")
async def list_customer_notes(call: Call) -> dict:
    customer = get_or_404(call.tenant.customers, call.path_id(), "Customer")
    return paged(call.query, customer.notes, v.note, NOTES)


@router.post(f"{CRM}/customers/{{id}}/notes")
async def create_customer_note(call: Call) -> dict:
    tenant = call.tenant
    customer = get_or_404(tenant.customers, call.path_id(), "Customer")
    body = await call.body(CreateCustomerNote)
    note = _note(tenant, require_text("text", body.text), bool(body.pinToTop))
    customer.notes.append(note)
    return v.note(note)


def _note(tenant: SandboxTenant, text: str, pinned: bool) -> Note:
    now = tenant.now()
    return Note(tenant.new_id("note"), text, pinned, tenant.api_user_id, now, now)


# -- locations -----------------------------------------------------------------------------------------
@router.get(f"{CRM}/locations")
async def list_locations(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    name = q.str("name")

    def named(loc: Location) -> bool:
        # The spec says "customer's name"; the location's own name is matched too.
        customer = tenant.customers.get(loc.customer_id)
        return any(
            name.casefold() in text.casefold() for text in (loc.name, customer.name if customer else "")
        )

    rows = filters.apply(
        list(tenant.locations.values()),
        [
            *filters.equal_ints(q, {"customerId": "customer_id"}),
            named if name else None,
            external.external_filter(q),
            *_address_filters(q, lambda loc: loc.address),
        ],
    )
    guid = external.requested_guid(q)
    return paged(q, rows, lambda loc: v.location(loc, guid), STANDARD)


@router.get(f"{CRM}/locations/{{id}}")
async def get_location(call: Call) -> dict:
    location = get_or_404(call.tenant.locations, call.path_id(), "Location")
    return v.location(location, external.requested_guid(call.query))


@router.post(f"{CRM}/locations")
async def create_location(call: Call) -> dict:
    tenant = call.tenant
    body = await call.body(CreateLocation)
    customer = referenced(tenant.customers, body.customerId, "customerId", "Customer")
    location = _new_location(tenant, customer.id, body, "location", tenant.now())
    tenant.locations[location.id] = location
    guid = body.externalData.applicationGuid if body.externalData else None
    return v.created_location(location, guid)


@router.get(f"{CRM}/locations/{{id}}/contacts")
async def list_location_contacts(call: Call) -> dict:
    location = get_or_404(call.tenant.locations, call.path_id(), "Location")
    return paged(call.query, location.contacts, v.location_contact, PLAIN)


# -- leads -----------------------------------------------------------------------------------------------
@router.get(f"{CRM}/leads", refuses=("genPermUrl",))  # no lead form pages to link to
async def list_leads(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    phone = q.str("leadPhone")
    without_customer = q.bool("withoutCustomer")
    is_prospect = q.bool("isProspect")
    is_form = q.bool("isCaptureSourceForm")

    def customer_field(name: str, lead_attribute: str) -> Callable[[Lead], str]:
        def get(lead: Lead) -> str:
            customer = tenant.customers.get(lead.customer_id or 0)
            value = getattr(customer.address, name) if customer else getattr(lead, lead_attribute)
            return value or ""

        return get

    def prospect(lead: Lead) -> bool:
        return lead.customer_id is None or not any(
            j.customer_id == lead.customer_id for j in tenant.jobs.values()
        )

    rows = filters.apply(
        list(tenant.leads.values()),
        [
            *filters.equal_ints(q, {"customerId": "customer_id"}),
            filters.enum_equals(q, "status", ("Open", "Dismissed", "Converted"), "status"),
            (lambda x: phone_matches([phone_digits(x.lead_phone or "")], phone)) if phone else None,
            filters.contains(q, "leadCustomerName", lambda x: x.lead_customer_name),
            filters.contains(q, "customerCity", customer_field("city", "lead_city")),
            filters.contains(q, "customerState", customer_field("state", "lead_state")),
            filters.contains(q, "customerZip", customer_field("zip", "lead_zip")),
            (lambda x: (x.customer_id is None and x.location_id is None) == without_customer)
            if without_customer is not None
            else None,
            (lambda x: prospect(x) == is_prospect) if is_prospect is not None else None,
            (lambda x: (x.capture_source == "Form") == is_form) if is_form is not None else None,
            *_lead_customer_times(q, tenant),
        ],
    )
    return paged(q, rows, v.lead, NO_ACTIVE)


def _lead_customer_times(q: Query, tenant: SandboxTenant) -> list[filters.Predicate | None]:
    """customerCreated…/customerModified…: by the lead's customer (a lead without one never matches)."""

    def customer_of(lead: Lead) -> Customer | None:
        return tenant.customers.get(lead.customer_id or 0)

    predicates: list[filters.Predicate | None] = []
    for param, attribute, before in (
        ("customerCreatedOnOrAfter", "created_on", False),
        ("customerCreatedBefore", "created_on", True),
        ("customerModifiedOnOrAfter", "modified_on", False),
    ):
        bound = q.datetime(param)
        if bound is not None:
            predicates.append(
                lambda lead, a=attribute, b=bound, x=before: (
                    (c := customer_of(lead)) is not None and (getattr(c, a) < b) == x
                )
            )
    return predicates


@router.get(f"{CRM}/leads/{{id}}")
async def get_lead(call: Call) -> dict:
    return v.lead(get_or_404(call.tenant.leads, call.path_id(), "Lead"))


@router.get(f"{CRM}/export/leads")
async def export_leads(call: Call) -> dict:
    # Every lead, whatever its status; the export's lead carries ``active`` besides the fields of GET leads
    # (and the document gives this feed no ``active`` filter).
    return export_feed(call.query, call.tenant.leads.values(), lambda x: {**v.lead(x), "active": x.active})


def _check_lead_refs(tenant: SandboxTenant, body: CreateLead | UpdateLead) -> None:
    if body.campaignId is not None:
        referenced(tenant.campaigns, body.campaignId, "campaignId", "Campaign")
    if body.businessUnitId is not None:
        referenced(tenant.business_units, body.businessUnitId, "businessUnitId", "Business unit")
    if body.jobTypeId is not None:
        referenced(tenant.job_types, body.jobTypeId, "jobTypeId", "Job type")


_LEAD_FIELDS = (
    "leadCustomerName",
    "leadPhone",
    "leadEmail",
    "leadStreet",
    "leadUnit",
    "leadCity",
    "leadState",
    "leadZip",
    "leadCountry",
)


def _snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name)


@router.post(f"{CRM}/leads")
async def create_lead(call: Call) -> dict:
    tenant, now = call.tenant, call.tenant.now()
    body = await call.body(CreateLead)
    require_text("summary", body.summary)
    _check_lead_refs(tenant, body)
    if body.customerId is not None:
        referenced(tenant.customers, body.customerId, "customerId", "Customer")
    if body.locationId is not None:
        location = referenced(tenant.locations, body.locationId, "locationId", "Location")
        if body.customerId is not None and location.customer_id != body.customerId:
            raise bad_request("locationId", "The location does not belong to the customer.")
    lead = Lead(
        id=tenant.new_id("lead"),
        status="Open",
        priority=body.priority or "Normal",
        campaign_id=body.campaignId,
        summary=body.summary,
        created_on=now,
        modified_on=now,
        created_by_id=tenant.api_user_id,
        customer_id=body.customerId,
        location_id=body.locationId,
        business_unit_id=body.businessUnitId,
        job_type_id=body.jobTypeId,
        follow_up_date=body.followUpDate,
        tag_type_ids=referenced_all(tenant.tag_types, body.tagTypeIds, "tagTypeIds", "Tag type"),
        call_reason_id=body.callReasonId,
        booking_id=body.bookingId,
        capture_source="Api",
    )
    for field in _LEAD_FIELDS:
        setattr(lead, _snake(field), getattr(body, field))
    tenant.leads[lead.id] = lead
    return v.lead(lead)


@router.patch(f"{CRM}/leads/{{id}}")
async def update_lead(call: Call) -> dict:
    tenant = call.tenant
    lead = get_or_404(tenant.leads, call.path_id(), "Lead")
    body = await call.body(UpdateLead)
    _check_lead_refs(tenant, body)
    for field in ("campaignId", "priority", "businessUnitId", "jobTypeId", "summary", *_LEAD_FIELDS):
        value = getattr(body, field)
        if value is not None:
            setattr(lead, _snake(field), value)
    lead.modified_on = tenant.now()
    return v.lead(lead)


@router.post(f"{CRM}/leads/{{id}}/follow-up")
async def create_lead_follow_up(call: Call) -> dict:
    tenant = call.tenant
    lead = get_or_404(tenant.leads, call.path_id(), "Lead")
    body = await call.body(FollowUp)
    lead.follow_up_date = body.followUpDate
    if body.text:
        lead.notes.append(_note(tenant, body.text, bool(body.pinToTop)))
    lead.modified_on = tenant.now()
    return {
        "leadId": lead.id,
        "followUpDate": iso(body.followUpDate),
        "text": body.text,
        "pinToTop": bool(body.pinToTop),
    }


@router.get(f"{CRM}/leads/{{id}}/notes")
async def list_lead_notes(call: Call) -> dict:
    lead = get_or_404(call.tenant.leads, call.path_id(), "Lead")
    return paged(call.query, lead.notes, v.note, NOTES)


@router.post(f"{CRM}/leads/{{id}}/notes")
async def create_lead_note(call: Call) -> dict:
    tenant = call.tenant
    lead = get_or_404(tenant.leads, call.path_id(), "Lead")
    body = await call.body(LeadNote)
    note = _note(tenant, require_text("text", body.text), bool(body.pinToTop))
    lead.notes.append(note)
    return v.note(note)


@router.post(f"{CRM}/leads/{{id}}/dismiss")
async def dismiss_lead(call: Call) -> None:
    tenant = call.tenant
    lead = get_or_404(tenant.leads, call.path_id(), "Lead")
    body = await call.body(DismissLead)
    if body.dismissingReasonId <= 0:
        raise bad_request("dismissingReasonId", "The dismissingReasonId field is required.")
    if lead.status != "Open":
        raise ProblemError(
            400, f"Lead {lead.id} is {lead.status} and cannot be dismissed.", {"id": ["Not open."]}
        )
    lead.status = "Dismissed"
    lead.dismissing_reason_id = body.dismissingReasonId
    lead.modified_on = tenant.now()
