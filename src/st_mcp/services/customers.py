"""Finding the caller in ServiceTitan, and creating them once (never twice)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

import anyio
from pydantic import BaseModel

from st_mcp.services.availability import Availability
from st_mcp.services.bounds import quoted
from st_mcp.services.catalog import Catalog
from st_mcp.services.concurrency import Later
from st_mcp.services.errors import NotFound, UserInputError
from st_mcp.services.phones import national_digits, normalize_phone
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan import NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.common import AddressInput
from st_mcp.servicetitan.models.crm import (
    Contact,
    ContactInput,
    CreateCustomerRequest,
    CreateLocationRequest,
    Customer,
    Location,
    LocationInput,
)

MAX_MATCHES = 5
T = TypeVar("T")
# USPS codes of the states, DC and the territories that use US phone numbers and ZIP codes.
# fmt: off
US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
    "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    "PR", "VI", "GU", "AS", "MP",
})
# fmt: on


class LocationInfo(BaseModel):
    location_id: int
    name: str
    address: str
    zip: str
    in_service_area: bool
    zone: str | None = None


class JobInfo(BaseModel):
    job_id: int
    job_number: str
    status: str
    job_type: str
    created_on: datetime
    summary: str | None = None


class AppointmentInfo(BaseModel):
    appointment_id: int
    job_id: int
    status: str
    label: str
    start_utc: datetime
    end_utc: datetime


class MembershipInfo(BaseModel):
    membership_id: int
    status: str
    location_id: int | None = None


class CustomerMatch(BaseModel):
    customer_id: int
    name: str
    type: str
    do_not_service: bool
    phones: list[str]
    emails: list[str]
    locations: list[LocationInfo]
    recent_jobs: list[JobInfo]
    upcoming_appointments: list[AppointmentInfo]
    memberships: list[MembershipInfo]


class LookupResult(BaseModel):
    phone: str | None = None
    customers: list[CustomerMatch]
    note: str


class CreatedCustomerResult(BaseModel):
    customer_id: int
    location_id: int
    created: bool
    location_created: bool
    in_service_area: bool
    phone: str
    note: str


class Customers:
    def __init__(
        self, st: ServiceTitanClient, reference: ReferenceData, catalog: Catalog, availability: Availability
    ) -> None:
        self._st = st
        self._reference = reference
        self._catalog = catalog
        self._availability = availability

    async def lookup(
        self, *, phone: str | None, name: str | None, email: str | None, now: datetime
    ) -> LookupResult:
        if not (phone or name or email):
            raise UserInputError("Give a phone, a name or an e-mail to look up.")
        e164 = normalize_phone(phone) if phone else None
        if e164:
            found = (
                await self._st.crm.list_customers(phone=national_digits(e164), page_size=MAX_MATCHES)
            ).data
        elif name:
            found = (await self._st.crm.list_customers(name=name.strip(), page_size=MAX_MATCHES)).data
        else:
            found = await self._by_email(str(email))
        matches = await self._describe(found[:MAX_MATCHES], now)
        if matches:
            note = (
                f"{len(matches)} matching customer(s). Confirm the name and service address before booking."
            )
        else:
            note = "No customer matches. Ask for name and service address, then create_customer."
        return LookupResult(phone=e164, customers=matches, note=note)

    async def _by_email(self, email: str) -> list[Customer]:
        wanted = email.strip().casefold()
        if "@" not in wanted:
            raise UserInputError(f"{quoted(email)} is not an e-mail address.")
        # ServiceTitan has no customer e-mail filter; contacts are scanned page by page.
        page = await self._st.crm.list_contacts_of_customers(
            modified_on_or_after=datetime(2000, 1, 1, tzinfo=UTC), page_size=5000
        )
        ids = sorted(
            {
                c.customerId
                for c in page.data
                if c.type == "Email" and c.value.casefold() == wanted and c.customerId
            }
        )
        if not ids:
            return []
        return (await self._st.crm.list_customers(ids=ids[:MAX_MATCHES])).data

    async def _describe(self, customers: list[Customer], now: datetime) -> list[CustomerMatch]:
        if not customers:
            return []
        ids = [c.id for c in customers]
        contacts: list[Contact] = []
        memberships: dict[int, list[MembershipInfo]] = {i: [] for i in ids}
        details: dict[int, tuple[list[LocationInfo], list[JobInfo], list[AppointmentInfo]]] = {}

        async def load_contacts() -> None:
            contacts.extend((await self._st.crm.list_contacts_of_customers(ids)).data)

        async def load_memberships() -> None:
            for m in (await self._st.memberships.list_memberships(customer_ids=ids)).data:
                memberships[m.customerId].append(
                    MembershipInfo(membership_id=m.id, status=m.status, location_id=m.locationId)
                )

        async def load_details(customer_id: int) -> None:
            details[customer_id] = await self._details(customer_id, now)

        async with anyio.create_task_group() as tg:
            tg.start_soon(load_contacts)
            tg.start_soon(load_memberships)
            for customer_id in ids:
                tg.start_soon(load_details, customer_id)

        matches = []
        for customer in customers:
            own = [c for c in contacts if c.customerId == customer.id]
            locations, jobs, appointments = details[customer.id]
            matches.append(
                CustomerMatch(
                    customer_id=customer.id,
                    name=customer.name,
                    type=customer.type,
                    do_not_service=customer.doNotService,
                    phones=sorted({_e164_or_raw(c.value) for c in own if c.type in ("Phone", "MobilePhone")}),
                    emails=sorted({c.value for c in own if c.type == "Email"}),
                    locations=locations,
                    recent_jobs=jobs,
                    upcoming_appointments=appointments,
                    memberships=memberships[customer.id],
                )
            )
        return matches

    async def _details(
        self, customer_id: int, now: datetime
    ) -> tuple[list[LocationInfo], list[JobInfo], list[AppointmentInfo]]:
        """Locations, recent jobs and upcoming appointments, fetched concurrently."""
        crm, jpm = self._st.crm, self._st.jpm
        async with anyio.create_task_group() as tg:
            locations = Later(tg, crm.list_locations(customer_id=customer_id))
            jobs = Later(tg, jpm.list_jobs(customer_id=customer_id, sort="-CreatedOn", page_size=5))
            upcoming = Later(tg, jpm.list_appointments(customer_id=customer_id, starts_on_or_after=now))
            job_types = Later(tg, self._reference.job_types())
        type_names = {t.id: t.name for t in job_types.value}
        return (
            [await self._location_info(loc) for loc in locations.value.data],
            [
                JobInfo(
                    job_id=j.id,
                    job_number=j.jobNumber,
                    status=j.jobStatus,
                    job_type=type_names.get(j.jobTypeId, str(j.jobTypeId)),
                    created_on=j.createdOn,
                    summary=j.summary,
                )
                for j in jobs.value.data
            ],
            [
                AppointmentInfo(
                    appointment_id=a.id,
                    job_id=a.jobId,
                    status=a.status,
                    label=self._availability.label(a.start, a.end),
                    start_utc=a.start,
                    end_utc=a.end,
                )
                for a in upcoming.value.data
                if a.status not in ("Canceled", "Done")
            ],
        )

    async def _location_info(self, location: Location) -> LocationInfo:
        area = await self._catalog.service_area(location.address.zip)
        address = location.address
        street = f"{address.street}{', ' + address.unit if address.unit else ''}"
        return LocationInfo(
            location_id=location.id,
            name=location.name,
            address=f"{street}, {address.city}, {address.state} {address.zip}",
            zip=address.zip,
            in_service_area=area.in_area,
            zone=area.zone_name,
        )

    async def create(
        self,
        *,
        name: str,
        phone: str,
        email: str | None,
        street: str,
        unit: str | None,
        city: str,
        state: str,
        zip_code: str,
    ) -> CreatedCustomerResult:
        e164 = normalize_phone(phone)
        for field, value in (("name", name), ("street", street), ("city", city), ("state", state)):
            if not value or not value.strip():
                raise UserInputError(f"'{field}' is required to create a customer.")
        if state.strip().upper() not in US_STATES:
            raise UserInputError(
                f"{quoted(state)} is not a US state. "
                "Ask for the two-letter state of the service address, e.g. CO."
            )
        area = await self._catalog.service_area(zip_code)
        address = AddressInput(
            street=street.strip(), unit=unit, city=city.strip(), state=state.strip().upper(), zip=area.zip
        )
        existing = await self._same_person(name, e164)
        if existing is not None:
            return await self._reuse(existing, address, e164, area.in_area)
        contacts = [ContactInput(type="MobilePhone", value=national_digits(e164))]
        if email:
            contacts.append(ContactInput(type="Email", value=email.strip()))
        created = await self._st.crm.create_customer(
            CreateCustomerRequest(
                name=name.strip(),
                type="Residential",
                address=address,
                locations=[LocationInput(name=name.strip(), address=address, contacts=contacts)],
            )
        )
        return CreatedCustomerResult(
            customer_id=created.id,
            location_id=created.locations[0].id,
            created=True,
            location_created=True,
            in_service_area=area.in_area,
            phone=e164,
            note="Customer created." + ("" if area.in_area else " The address is outside the service area."),
        )

    async def _same_person(self, name: str, e164: str) -> Customer | None:
        candidates = (
            await self._st.crm.list_customers(phone=national_digits(e164), page_size=MAX_MATCHES)
        ).data
        wanted = " ".join(name.split()).casefold()
        return next((c for c in candidates if " ".join(c.name.split()).casefold() == wanted), None)

    async def _reuse(
        self, customer: Customer, address: AddressInput, e164: str, in_area: bool
    ) -> CreatedCustomerResult:
        locations = (await self._st.crm.list_locations(customer_id=customer.id)).data
        same = next((loc for loc in locations if _same_address(loc, address)), None)
        if same is not None:
            return CreatedCustomerResult(
                customer_id=customer.id,
                location_id=same.id,
                created=False,
                location_created=False,
                in_service_area=in_area,
                phone=e164,
                note="This caller already exists at this address; nothing was created.",
            )
        location = await self._st.crm.create_location(
            CreateLocationRequest(customerId=customer.id, name=address.street, address=address)
        )
        return CreatedCustomerResult(
            customer_id=customer.id,
            location_id=location.id,
            created=False,
            location_created=True,
            in_service_area=in_area,
            phone=e164,
            note="This caller already exists; the new service address was added as a location.",
        )

    async def phones_of(self, customer_id: int) -> list[str]:
        """The customer's phone numbers in E.164 (unparseable numbers in ServiceTitan are skipped)."""
        contacts = (await self._st.crm.list_customer_contacts(customer_id)).data
        numbers = {_e164_or_raw(c.value) for c in contacts if c.type in ("Phone", "MobilePhone")}
        return sorted(n for n in numbers if n.startswith("+"))

    async def location(self, location_id: int) -> Location:
        try:
            return await self._st.crm.get_location(location_id)
        except NotFoundError:
            raise NotFound(
                f"No location with id {location_id}. "
                "Use a location_id from lookup_customer or create_customer."
            ) from None

    async def customer_and_location(self, customer_id: int, location_id: int) -> tuple[Customer, Location]:
        async with anyio.create_task_group() as tg:
            customer = Later(tg, _or_none(self._st.crm.get_customer(customer_id)))
            location = Later(tg, _or_none(self._st.crm.get_location(location_id)))
        if customer.value is None:
            raise NotFound(
                f"No customer with id {customer_id}. "
                "Use lookup_customer, or create_customer for a new caller."
            )
        if location.value is None or location.value.customerId != customer_id:
            raise NotFound(
                f"Location {location_id} is not a location of customer {customer_id}. "
                "Use a location_id from lookup_customer or create_customer."
            )
        return customer.value, location.value


async def _or_none(call: Awaitable[T]) -> T | None:
    try:
        return await call
    except NotFoundError:
        return None


def _same_address(location: Location, address: AddressInput) -> bool:
    def norm(text: str | None) -> str:
        return " ".join((text or "").replace(".", "").split()).casefold()

    return norm(location.address.street) == norm(address.street) and location.address.zip[:5] == address.zip


def _e164_or_raw(value: str) -> str:
    try:
        return normalize_phone(value)
    except UserInputError:
        return value
