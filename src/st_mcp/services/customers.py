"""Finding the caller in ServiceTitan, and creating them once (never twice)."""

from __future__ import annotations

from collections.abc import Awaitable, Collection
from datetime import UTC, datetime
from typing import Literal, TypeVar

import anyio
from pydantic import BaseModel

from st_mcp.services.availability import Availability
from st_mcp.services.bounds import quoted
from st_mcp.services.catalog import Catalog
from st_mcp.services.concurrency import Later
from st_mcp.services.errors import NotFound, UserInputError
from st_mcp.services.phones import national_digits, normalize_phone
from st_mcp.services.recent import RecentRecords
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan import NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.common import AddressInput
from st_mcp.servicetitan.models.crm import (
    ContactInput,
    CreateCustomerRequest,
    CreateLocationRequest,
    Customer,
    Location,
    LocationInput,
)
from st_mcp.servicetitan.models.jpm import Appointment, Job

MAX_MATCHES = 5
T = TypeVar("T")
# What lookup adds on request: each costs one more request per customer (memberships: one in all).
LookupSection = Literal["appointments", "recent_jobs", "memberships"]
LOOKUP_SECTIONS: tuple[LookupSection, ...] = ("appointments", "recent_jobs", "memberships")
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
    # None: not fetched — pass include=[...] to lookup_customer to have them.
    recent_jobs: list[JobInfo] | None = None
    upcoming_appointments: list[AppointmentInfo] | None = None
    memberships: list[MembershipInfo] | None = None


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
        self,
        st: ServiceTitanClient,
        reference: ReferenceData,
        catalog: Catalog,
        availability: Availability,
        recent: RecentRecords | None = None,
    ) -> None:
        self._st = st
        self._reference = reference
        self._catalog = catalog
        self._availability = availability
        self._recent = recent or RecentRecords()

    async def lookup(
        self,
        *,
        phone: str | None,
        name: str | None,
        email: str | None,
        now: datetime,
        include: Collection[LookupSection] = (),
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
        matches = await self._describe(found[:MAX_MATCHES], now, frozenset(include))
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

    async def _describe(
        self, customers: list[Customer], now: datetime, include: frozenset[LookupSection]
    ) -> list[CustomerMatch]:
        """One round trip after the search: every section of every match is fetched at once."""
        if not customers:
            return []
        ids = [c.id for c in customers]
        crm, jpm = self._st.crm, self._st.jpm
        async with anyio.create_task_group() as tg:
            contacts = Later(tg, crm.list_contacts_of_customers(ids))
            locations = {i: Later(tg, crm.list_locations(customer_id=i)) for i in ids}
            memberships = (
                Later(tg, self._st.memberships.list_memberships(customer_ids=ids))
                if "memberships" in include
                else None
            )
            jobs = (
                {i: Later(tg, jpm.list_jobs(customer_id=i, sort="-CreatedOn", page_size=5)) for i in ids}
                if "recent_jobs" in include
                else None
            )
            job_types = Later(tg, self._reference.job_types()) if "recent_jobs" in include else None
            upcoming = (
                {i: Later(tg, jpm.list_appointments(customer_id=i, starts_on_or_after=now)) for i in ids}
                if "appointments" in include
                else None
            )
            # The service area too, so the locations' in-area answers cost no round trip of their own;
            # an error here comes back from _location_info below.
            Later(tg, self._catalog.warm())

        self._recent.keep_customers(customers)
        type_names = {t.id: t.name for t in job_types.value} if job_types is not None else {}
        matches = []
        for customer in customers:
            own = [c for c in contacts.value.data if c.customerId == customer.id]
            phones = sorted({_e164_or_raw(c.value) for c in own if c.type in ("Phone", "MobilePhone")})
            self._recent.keep_phones(customer.id, (p for p in phones if p.startswith("+")))
            places = locations[customer.id].value.data
            self._recent.keep_locations(places)
            matches.append(
                CustomerMatch(
                    customer_id=customer.id,
                    name=customer.name,
                    type=customer.type,
                    do_not_service=customer.doNotService,
                    phones=phones,
                    emails=sorted({c.value for c in own if c.type == "Email"}),
                    locations=[await self._location_info(loc) for loc in places],
                    recent_jobs=(
                        [_job_info(j, type_names) for j in jobs[customer.id].value.data]
                        if jobs is not None
                        else None
                    ),
                    upcoming_appointments=(
                        [
                            self._appointment_info(a)
                            for a in upcoming[customer.id].value.data
                            if a.status not in ("Canceled", "Done")
                        ]
                        if upcoming is not None
                        else None
                    ),
                    memberships=(
                        [
                            MembershipInfo(membership_id=m.id, status=m.status, location_id=m.locationId)
                            for m in memberships.value.data
                            if m.customerId == customer.id
                        ]
                        if memberships is not None
                        else None
                    ),
                )
            )
        return matches

    def _appointment_info(self, a: Appointment) -> AppointmentInfo:
        return AppointmentInfo(
            appointment_id=a.id,
            job_id=a.jobId,
            status=a.status,
            label=self._availability.label(a.start, a.end),
            start_utc=a.start,
            end_utc=a.end,
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
        if (kept := self._recent.phones(customer_id)) is not None:
            return list(kept)
        contacts = (await self._st.crm.list_customer_contacts(customer_id)).data
        numbers = {_e164_or_raw(c.value) for c in contacts if c.type in ("Phone", "MobilePhone")}
        phones = sorted(n for n in numbers if n.startswith("+"))
        self._recent.keep_phones(customer_id, phones)
        return phones

    async def location(self, location_id: int) -> Location:
        """The location, from what a lookup just read when it can (slots need only its ZIP)."""
        if (kept := self._recent.location(location_id)) is not None:
            return kept
        try:
            location = await self._st.crm.get_location(location_id)
        except NotFoundError:
            raise NotFound(
                f"No location with id {location_id}. "
                "Use a location_id from lookup_customer or create_customer."
            ) from None
        self._recent.keep_locations([location])
        return location

    async def customer_and_location(self, customer_id: int, location_id: int) -> tuple[Customer, Location]:
        async with anyio.create_task_group() as tg:
            customer = Later(tg, self._customer_or_none(customer_id))
            location = Later(tg, self._location_or_none(location_id))
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

    async def _customer_or_none(self, customer_id: int) -> Customer | None:
        if (kept := self._recent.customer(customer_id)) is not None:
            return kept
        customer = await _or_none(self._st.crm.get_customer(customer_id))
        if customer is not None:
            self._recent.keep_customers([customer])
        return customer

    async def _location_or_none(self, location_id: int) -> Location | None:
        if (kept := self._recent.location(location_id)) is not None:
            return kept
        location = await _or_none(self._st.crm.get_location(location_id))
        if location is not None:
            self._recent.keep_locations([location])
        return location


def _job_info(job: Job, type_names: dict[int, str]) -> JobInfo:
    return JobInfo(
        job_id=job.id,
        job_number=job.jobNumber,
        status=job.jobStatus,
        job_type=type_names.get(job.jobTypeId, str(job.jobTypeId)),
        created_on=job.createdOn,
        summary=job.summary,
    )


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
