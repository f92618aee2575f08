"""Wire shapes — CRM: customers, locations, contacts, notes, leads."""

from __future__ import annotations

from ..entities import (
    Contact,
    Customer,
    Lead,
    Location,
    Note,
)
from ..state import phone_digits
from ..times import iso, iso_or_none
from .common import Json, address, custom_fields, external_data


def _preferences() -> Json:
    return {
        "jobRemindersEnabled": True,
        "marketingUpdatesEnabled": False,
        "invoiceStatementNotification": True,
        "invoiceNotification": True,
        "statementNotification": True,
    }


def _phone_settings(c: Contact) -> Json:
    is_phone = c.type in ("Phone", "MobilePhone")
    return {"phoneNumber": phone_digits(c.value) if is_phone else "", "doNotText": c.do_not_text}


def contact_brief(c: Contact) -> Json:
    """CustomerContact / LocationContact, as embedded in create responses."""
    return {"id": c.id, "type": c.type, "value": c.value, "memo": c.memo}


def customer_contact(c: Contact) -> Json:
    """CustomerContactWithModifiedOnResponse."""
    return {
        **contact_brief(c),
        "modifiedOn": iso(c.modified_on),
        "phoneSettings": _phone_settings(c),
        "createdOn": iso(c.created_on),
        "preferences": _preferences(),
    }


def customer_contact_with_customer(c: Contact, customer_id: int) -> Json:
    return {**customer_contact(c), "customerId": customer_id}


def location_contact(c: Contact) -> Json:
    """LocationContactResponse."""
    return {
        **contact_brief(c),
        "phoneSettings": _phone_settings(c),
        "modifiedOn": iso(c.modified_on),
        "createdOn": iso(c.created_on),
        "preferences": _preferences(),
    }


def customer(c: Customer, application_guid: str | None = None) -> Json:
    return {
        "id": c.id,
        "active": c.active,
        "name": c.name,
        "type": c.type,
        "address": address(c.address),
        "customFields": custom_fields(c.custom_fields),
        "balance": c.balance,
        "taxExempt": c.tax_exempt,
        "tagTypeIds": list(c.tag_type_ids),
        "doNotMail": c.do_not_mail,
        "doNotService": c.do_not_service,
        "nationalAccount": c.national_account,
        "createdOn": iso(c.created_on),
        "createdById": c.created_by_id,
        "modifiedOn": iso(c.modified_on),
        "mergedToId": None,
        "paymentTermId": c.payment_term_id,
        "creditLimit": c.credit_limit,
        "creditLimitBalance": c.credit_limit_balance,
        "externalData": external_data(c.external_data, application_guid),
    }


def location(loc: Location, application_guid: str | None = None) -> Json:
    return {
        "id": loc.id,
        "customerId": loc.customer_id,
        "active": loc.active,
        "name": loc.name,
        "address": address(loc.address),
        "customFields": custom_fields(loc.custom_fields),
        "createdOn": iso(loc.created_on),
        "createdById": loc.created_by_id,
        "modifiedOn": iso(loc.modified_on),
        "mergedToId": None,
        "zoneId": loc.zone_id,
        "taxExempt": loc.tax_exempt,
        "tagTypeIds": list(loc.tag_type_ids),
        "externalData": external_data(loc.external_data, application_guid),
        "taxZoneId": loc.tax_zone_id,
    }


def created_location(loc: Location, application_guid: str | None = None) -> Json:
    return {**location(loc, application_guid), "contacts": [contact_brief(c) for c in loc.contacts]}


def created_customer(c: Customer, locations: list[Location], application_guid: str | None = None) -> Json:
    return {
        **customer(c, application_guid),
        "locations": [created_location(loc, application_guid) for loc in locations],
        "contacts": [contact_brief(x) for x in c.contacts],
    }


def note(n: Note) -> Json:
    return {
        "id": n.id,
        "text": n.text,
        "isPinned": n.is_pinned,
        "createdById": n.created_by_id,
        "createdOn": iso(n.created_on),
        "modifiedOn": iso(n.modified_on),
    }


def lead(x: Lead) -> Json:
    return {
        "id": x.id,
        "status": x.status,
        "priority": x.priority,
        "customerId": x.customer_id,
        "locationId": x.location_id,
        "businessUnitId": x.business_unit_id,
        "jobTypeId": x.job_type_id,
        "campaignId": x.campaign_id,
        "followUpDate": iso_or_none(x.follow_up_date),
        "createdById": x.created_by_id,
        "createdOn": iso(x.created_on),
        "modifiedOn": iso(x.modified_on),
        "tagTypeIds": list(x.tag_type_ids),
        "dismissingReasonId": x.dismissing_reason_id,
        "summary": x.summary,
        "callReasonId": x.call_reason_id,
        "callId": x.call_id,
        "bookingId": x.booking_id,
        "manualCallId": None,
        "leadUrl": None,
        "leadCustomerName": x.lead_customer_name,
        "leadPhone": x.lead_phone,
        "leadEmail": x.lead_email,
        "leadStreet": x.lead_street,
        "leadUnit": x.lead_unit,
        "leadCity": x.lead_city,
        "leadState": x.lead_state,
        "leadZip": x.lead_zip,
        "leadCountry": x.lead_country,
        "captureSource": x.capture_source,
    }
