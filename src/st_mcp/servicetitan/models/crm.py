"""CRM module: customers, locations, contacts, leads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from st_mcp.servicetitan.models.common import (
    Address,
    AddressInput,
    CustomField,
    ExternalDataInput,
    ExternalDataItem,
    Priority,
    StModel,
    StRequest,
)

ContactType = Literal["Phone", "Email", "Fax", "MobilePhone"]
LeadStatus = Literal["Open", "Dismissed", "Converted"]


class PhoneSettings(StModel):
    phoneNumber: str
    doNotText: bool


class Contact(StModel):
    id: int
    type: ContactType
    value: str
    memo: str | None = None
    modifiedOn: datetime | None = None
    createdOn: datetime | None = None
    phoneSettings: PhoneSettings | None = None
    customerId: int | None = None
    locationId: int | None = None


class ContactInput(StRequest):
    type: ContactType
    value: str
    memo: str | None = None


class Customer(StModel):
    id: int
    active: bool
    name: str
    type: Literal["Residential", "Commercial"]
    address: Address
    customFields: list[CustomField] = []
    balance: float | str | None = None
    taxExempt: bool = False
    tagTypeIds: list[int] = []
    doNotMail: bool = False
    doNotService: bool = False
    nationalAccount: bool = False
    createdOn: datetime
    createdById: int | None = None
    modifiedOn: datetime
    mergedToId: int | None = None
    externalData: list[ExternalDataItem] | None = None


class Location(StModel):
    id: int
    customerId: int
    active: bool
    name: str
    address: Address
    customFields: list[CustomField] = []
    createdOn: datetime
    createdById: int | None = None
    modifiedOn: datetime
    mergedToId: int | None = None
    zoneId: int | None = None
    taxZoneId: int | None = None
    taxExempt: bool = False
    tagTypeIds: list[int] = []
    externalData: list[ExternalDataItem] | None = None


class CreatedLocation(Location):
    contacts: list[Contact] = []


class CreatedCustomer(Customer):
    locations: list[CreatedLocation] = []
    contacts: list[Contact] = []


class LocationInput(StRequest):
    name: str
    address: AddressInput
    contacts: list[ContactInput] | None = None
    tagTypeIds: list[int] | None = None
    externalData: ExternalDataInput | None = None


class CreateCustomerRequest(StRequest):
    name: str
    type: Literal["Residential", "Commercial"] | None = "Residential"
    doNotMail: bool | None = None
    doNotService: bool | None = None
    locations: list[LocationInput]
    address: AddressInput
    contacts: list[ContactInput] | None = None
    tagTypeIds: list[int] | None = None
    externalData: ExternalDataInput | None = None


class CreateLocationRequest(StRequest):
    customerId: int
    name: str
    address: AddressInput
    contacts: list[ContactInput] | None = None
    tagTypeIds: list[int] | None = None
    externalData: ExternalDataInput | None = None


class Lead(StModel):
    id: int
    status: LeadStatus
    priority: Priority
    customerId: int | None = None
    locationId: int | None = None
    businessUnitId: int | None = None
    jobTypeId: int | None = None
    campaignId: int
    followUpDate: datetime | None = None
    createdById: int | None = None
    createdOn: datetime
    modifiedOn: datetime
    tagTypeIds: list[int] | None = None
    dismissingReasonId: int | None = None
    summary: str | None = None
    callReasonId: int | None = None
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
    captureSource: str | None = None


class ExportLead(Lead):
    """A row of the leads export feed (``crm export/leads``): a lead as GET leads has it, and ``active``."""

    callId: int | None = None
    manualCallId: int | None = None
    leadUrl: str | None = None
    active: bool = True


class CreateLeadRequest(StRequest):
    campaignId: int
    summary: str
    customerId: int | None = None
    locationId: int | None = None
    businessUnitId: int | None = None
    jobTypeId: int | None = None
    tagTypeIds: list[int] | None = None
    priority: Priority | None = None
    callReasonId: int | None = None
    followUpDate: datetime | None = None
    leadCustomerName: str | None = None
    leadPhone: str | None = None
    leadEmail: str | None = None
    leadStreet: str | None = None
    leadUnit: str | None = None
    leadCity: str | None = None
    leadState: str | None = None
    leadZip: str | None = None
    leadCountry: str | None = None


class LeadFollowUpRequest(StRequest):
    followUpDate: datetime
    text: str | None = None
    pinToTop: bool | None = None


class LeadFollowUp(StModel):
    leadId: int
    followUpDate: datetime
    text: str | None = None
    pinToTop: bool = False


class DismissLeadRequest(StRequest):
    dismissingReasonId: int
