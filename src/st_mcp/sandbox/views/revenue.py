"""Wire shapes — membership types, recurring service types and events, estimates, CRM bookings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..entities import (
    ESTIMATE_STATUS_VALUES,
    CrmBooking,
    Estimate,
    EstimateItem,
    MembershipType,
    RecurringServiceEvent,
    RecurringServiceType,
)
from ..times import iso, iso_or_none
from .common import Json

if TYPE_CHECKING:
    from ..state import SandboxTenant


def membership_type(m: MembershipType, *, billing: bool, discounts: bool, services: bool, tags: bool) -> Json:
    return {
        "name": m.name,
        "displayName": m.display_name,
        "active": m.active,
        "discountMode": "Units" if m.unit_discounts else "Basic",
        "locationTarget": "AllLocations",
        "revenueRecognitionMode": "Deferred",
        "autoCalculateInvoiceTemplates": True,
        "useMembershipPricingTable": False,
        "showMembershipSavings": True,
        "id": m.id,
        "createdOn": iso(m.created_on),
        "createdById": None,
        "modifiedOn": iso(m.modified_on),
        "importId": None,
        "billingTemplateId": None,
        "discount": m.discount,
        "durationBilling": [
            {
                "duration": duration,
                "billingFrequency": frequency,
                "salePrice": sale,
                "billingPrice": billing_price,
                "renewalPrice": renewal,
            }
            for duration, frequency, sale, billing_price, renewal in m.billing
        ]
        if billing
        else None,
        "discounts": [{"targetId": target, "discount": pct} for target, pct in m.unit_discounts]
        if discounts
        else None,
        "recurringServices": [
            {
                "membershipTypeId": m.id,
                "recurringServiceTypeId": type_id,
                "offset": 0,
                "offsetType": "Months",
                "allocation": round(100 / len(m.recurring_service_type_ids), 2),
            }
            for type_id in m.recurring_service_type_ids
        ]
        if services
        else None,
        "tagTypeIds": [] if tags else None,
    }


def recurring_service_type(r: RecurringServiceType) -> Json:
    return {
        "id": r.id,
        "createdOn": iso(r.created_on),
        "createdById": None,
        "modifiedOn": iso(r.modified_on),
        "active": r.active,
        "recurrenceType": "Seasonal",
        "recurrenceInterval": 1,
        "recurrenceMonths": list(r.recurrence_months),
        "durationType": "Continuous",
        "durationLength": 0,
        "invoiceTemplateId": None,
        "businessUnitId": r.business_unit_id,
        "jobTypeId": r.job_type_id,
        "priority": r.priority,
        "campaignId": None,
        "jobSummary": r.job_summary,
        "name": r.name,
        "importId": None,
    }


def recurring_service_event(e: RecurringServiceEvent) -> Json:
    return {
        "id": e.id,
        "locationRecurringServiceId": e.location_recurring_service_id,
        "locationRecurringServiceName": e.location_recurring_service_name,
        "membershipId": e.membership_id,
        "membershipName": e.membership_name,
        "status": e.status,
        "date": iso(e.date),
        "createdOn": iso(e.created_on),
        "jobId": e.job_id,
        "createdById": e.created_by_id,
        "modifiedOn": iso(e.modified_on),
    }


def estimate_item(item: EstimateItem) -> Json:
    return {
        "id": item.id,
        "sku": {
            "id": item.sku_id,
            "name": item.sku_name,
            "displayName": item.sku_name,
            "type": item.sku_type,
            "soldHours": 0.0,
            "generalLedgerAccountId": 0,
            "generalLedgerAccountName": "Sales",
            "modifiedOn": iso(item.modified_on),
        },
        "skuAccount": "Sales",
        "description": item.description,
        "membershipTypeId": None,
        "qty": item.qty,
        "unitRate": item.unit_rate,
        "total": item.total,
        "unitCost": item.unit_cost,
        "totalCost": round(item.unit_cost * item.qty, 2),
        "itemGroupName": "",
        "itemGroupRootId": None,
        "createdOn": iso(item.created_on),
        "modifiedOn": iso(item.modified_on),
        "chargeable": True,
        "invoiceItemId": None,
        "budgetCodeId": None,
    }


def estimate(e: Estimate, tenant: SandboxTenant) -> Json:
    unit = tenant.business_units.get(e.business_unit_id)
    return {
        "id": e.id,
        "jobId": e.job_id,
        "projectId": None,
        "locationId": e.location_id,
        "customerId": e.customer_id,
        "name": e.name,
        "jobNumber": e.job_number,
        "status": {"value": ESTIMATE_STATUS_VALUES[e.status], "name": e.status},
        "reviewStatus": "None",
        "summary": e.summary,
        "createdOn": iso(e.created_on),
        "modifiedOn": iso(e.modified_on),
        "soldOn": iso_or_none(e.sold_on),
        "soldBy": e.sold_by,
        "active": e.active,
        "items": [estimate_item(item) for item in e.items],
        "externalLinks": [],
        "subtotal": e.subtotal,
        "tax": e.tax,
        "businessUnitId": e.business_unit_id,
        "businessUnitName": unit.name if unit else None,
        "isRecommended": False,
        "budgetCodeId": None,
        "isChangeOrder": False,
        "proposalTagName": None,
        "depositAmount": None,
        "depositPercent": None,
        "requireDepositOnSignature": None,
    }


def booking(b: CrmBooking) -> Json:
    a = b.address
    return {
        "id": b.id,
        "source": b.source,
        "createdOn": iso(b.created_on),
        "name": b.name,
        "address": {
            "street": a.street,
            "unit": a.unit,
            "city": a.city,
            "state": a.state,
            "zip": a.zip,
            "country": a.country,
        }
        if a
        else None,
        "customerType": b.customer_type,
        "start": iso(b.start or b.created_on),
        "campaignId": b.campaign_id,
        "businessUnitId": b.business_unit_id,
        "isFirstTimeClient": b.is_first_time_client,
        "uploadedImages": list(b.uploaded_images),
        "isSendConfirmationEmail": b.is_send_confirmation_email,
        "status": b.status,
        "dismissingReasonId": b.dismissing_reason_id,
        "jobId": b.job_id,
        "externalId": b.external_id,
        "priority": b.priority,
        "jobTypeId": b.job_type_id,
        "bookingProviderId": b.booking_provider_id,
        "modifiedOn": iso(b.modified_on),
        "summary": b.summary,
    }
