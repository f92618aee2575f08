"""CRM: customers, locations, contacts, leads (``/crm/v2``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from st_mcp.servicetitan.models.bookings import Booking, CreateBookingRequest
from st_mcp.servicetitan.models.common import ActiveFilter, Note, NoteInput, Page
from st_mcp.servicetitan.models.crm import (
    Contact,
    ContactInput,
    CreateCustomerRequest,
    CreatedCustomer,
    CreatedLocation,
    CreateLeadRequest,
    CreateLocationRequest,
    Customer,
    DismissLeadRequest,
    Lead,
    LeadFollowUp,
    LeadFollowUpRequest,
    LeadStatus,
    Location,
)
from st_mcp.servicetitan.resources._base import ResourceGroup


class CrmApi(ResourceGroup):
    module = "crm"

    # Customers
    async def list_customers(
        self,
        *,
        ids: Sequence[int] | None = None,
        name: str | None = None,
        phone: str | None = None,
        street: str | None = None,
        zip: str | None = None,
        active: ActiveFilter | None = None,
        modified_on_or_after: datetime | None = None,
        page: int = 1,
        page_size: int = 50,
        include_total: bool = False,
    ) -> Page[Customer]:
        params = {
            "ids": ids,
            "name": name,
            "phone": phone,
            "street": street,
            "zip": zip,
            "active": active,
            "modifiedOnOrAfter": modified_on_or_after,
        }
        return await self._list(
            "customers", Customer, params, page=page, page_size=page_size, include_total=include_total
        )

    def iter_customers(self, *, name: str | None = None, phone: str | None = None) -> AsyncIterator[Customer]:
        return self._iterate("customers", Customer, {"name": name, "phone": phone})

    async def get_customer(self, customer_id: int) -> Customer:
        return await self._get(f"customers/{customer_id}", Customer)

    async def create_customer(self, body: CreateCustomerRequest) -> CreatedCustomer:
        return await self._write("POST", "customers", body, CreatedCustomer)

    async def list_customer_contacts(self, customer_id: int, *, page_size: int = 50) -> Page[Contact]:
        return await self._list(f"customers/{customer_id}/contacts", Contact, {}, page_size=page_size)

    async def create_customer_contact(self, customer_id: int, body: ContactInput) -> Contact:
        return await self._write("POST", f"customers/{customer_id}/contacts", body, Contact)

    async def list_contacts_of_customers(
        self,
        customer_ids: Sequence[int] | None = None,
        *,
        modified_on_or_after: datetime | None = None,
        page_size: int = 500,
    ) -> Page[Contact]:
        """Contacts of many customers in one request (``GET /customers/contacts?customerIds=``)."""
        params = {"customerIds": customer_ids or None, "modifiedOnOrAfter": modified_on_or_after}
        return await self._list("customers/contacts", Contact, params, page_size=page_size)

    async def create_customer_note(self, customer_id: int, body: NoteInput) -> Note:
        return await self._write("POST", f"customers/{customer_id}/notes", body, Note)

    # Locations
    async def list_locations(
        self,
        *,
        customer_id: int | None = None,
        ids: Sequence[int] | None = None,
        zip: str | None = None,
        active: ActiveFilter | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> Page[Location]:
        params = {"customerId": customer_id, "ids": ids, "zip": zip, "active": active}
        return await self._list("locations", Location, params, page=page, page_size=page_size)

    async def get_location(self, location_id: int) -> Location:
        return await self._get(f"locations/{location_id}", Location)

    async def create_location(self, body: CreateLocationRequest) -> CreatedLocation:
        return await self._write("POST", "locations", body, CreatedLocation)

    async def list_location_contacts(self, location_id: int) -> Page[Contact]:
        return await self._list(f"locations/{location_id}/contacts", Contact, {})

    # Leads
    async def list_leads(
        self,
        *,
        status: LeadStatus | None = None,
        created_on_or_after: datetime | None = None,
        lead_phone: str | None = None,
        customer_id: int | None = None,
        ids: Sequence[int] | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> Page[Lead]:
        params = {
            "status": status,
            "createdOnOrAfter": created_on_or_after,
            "leadPhone": lead_phone,
            "customerId": customer_id,
            "ids": ids,
        }
        return await self._list("leads", Lead, params, page=page, page_size=page_size)

    def iter_leads(
        self, *, status: LeadStatus | None = None, created_on_or_after: datetime | None = None
    ) -> AsyncIterator[Lead]:
        params = {"status": status, "createdOnOrAfter": created_on_or_after}
        return self._iterate("leads", Lead, params)

    async def get_lead(self, lead_id: int) -> Lead:
        return await self._get(f"leads/{lead_id}", Lead)

    async def create_lead(self, body: CreateLeadRequest) -> Lead:
        return await self._write("POST", "leads", body, Lead)

    async def create_lead_follow_up(self, lead_id: int, body: LeadFollowUpRequest) -> LeadFollowUp:
        return await self._write("POST", f"leads/{lead_id}/follow-up", body, LeadFollowUp)

    async def create_lead_note(self, lead_id: int, body: NoteInput) -> Note:
        return await self._write("POST", f"leads/{lead_id}/notes", body, Note)

    async def dismiss_lead(self, lead_id: int, body: DismissLeadRequest) -> None:
        await self._write("POST", f"leads/{lead_id}/dismiss", body)

    # Bookings (booking-request mode: a request a CSR confirms, instead of a job)
    async def create_booking(self, provider_id: int, body: CreateBookingRequest) -> Booking:
        return await self._write("POST", f"booking-provider/{provider_id}/bookings", body, Booking)

    async def get_booking(self, provider_id: int, booking_id: int) -> Booking:
        return await self._get(f"booking-provider/{provider_id}/bookings/{booking_id}", Booking)

    async def find_bookings(self, provider_id: int, *, external_id: str) -> Page[Booking]:
        params = {"externalId": external_id}
        return await self._list(f"booking-provider/{provider_id}/bookings", Booking, params, page_size=5)
