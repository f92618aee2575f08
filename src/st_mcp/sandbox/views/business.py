"""Wire shapes — Marketing campaigns, memberships and accounting invoices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..entities import (
    Address,
    Campaign,
    Invoice,
    InvoiceItem,
    Membership,
)
from ..times import iso, iso_or_none
from .common import Json, money, named_ref

if TYPE_CHECKING:
    from ..state import SandboxTenant


def campaign(c: Campaign) -> Json:
    return {
        "id": c.id,
        "name": c.name,
        "modifiedOn": iso(c.modified_on),
        "createdOn": iso(c.created_on),
        "active": c.active,
        "isDefaultCampaign": c.is_default,
        "category": {"id": c.category[0], "name": c.category[1], "active": True},
        "source": c.source,
        "otherSource": None,
        "businessUnit": c.business_unit_name,
        "medium": c.medium,
        "otherMedium": None,
        "campaignPhoneNumbers": list(c.phone_numbers),
    }


def membership(m: Membership) -> Json:
    return {
        "id": m.id,
        "createdOn": iso(m.created_on),
        "createdById": m.created_by_id,
        "modifiedOn": iso(m.modified_on),
        "followUpOn": iso(m.follow_up_on),
        "cancellationDate": iso_or_none(m.cancellation_date),
        "from": iso_or_none(m.start),
        "nextScheduledBillDate": iso_or_none(m.next_scheduled_bill_date),
        "to": iso_or_none(m.end),
        "billingFrequency": m.billing_frequency,
        "renewalBillingFrequency": m.billing_frequency,
        "status": m.status,
        "followUpStatus": "NotAttempted",
        "active": m.active,
        "initialDeferredRevenue": m.initial_deferred_revenue,
        "duration": m.duration_months,
        "renewalDuration": m.duration_months,
        "businessUnitId": m.business_unit_id,
        "customerId": m.customer_id,
        "membershipTypeId": m.membership_type_id,
        "activatedById": m.sold_by_id,
        "activatedFromId": None,
        "billingTemplateId": None,
        "cancellationBalanceInvoiceId": None,
        "cancellationInvoiceId": None,
        "followUpCustomStatusId": None,
        "locationId": m.location_id,
        "paymentMethodId": None,
        "paymentTypeId": None,
        "recurringLocationId": m.location_id,
        "renewalMembershipTaskId": None,
        "renewedById": None,
        "soldById": m.sold_by_id,
        "customerPo": None,
        "importId": None,
        "memo": m.memo,
        "customFields": [],
    }


def _address_ref(a: Address) -> Json:
    return {
        "street": a.street,
        "unit": a.unit,
        "city": a.city,
        "state": a.state,
        "zip": a.zip,
        "country": a.country,
    }


def invoice_item(item: InvoiceItem, invoice: Invoice, tenant: SandboxTenant) -> Json:
    bu = tenant.business_units.get(invoice.business_unit_id)
    return {
        "id": item.id,
        "description": item.description,
        "quantity": f"{item.quantity:.4f}".rstrip("0").rstrip("."),
        "cost": money(item.cost),
        "totalCost": money(item.cost * item.quantity),
        "budgetCodeId": None,
        "inventoryLocationId": None,
        "inventoryLocation": None,
        "price": money(item.price),
        "type": item.type,
        "skuName": item.sku_name,
        "skuId": item.sku_id,
        "total": money(item.total),
        "inventory": item.type == "Material",
        "taxable": item.taxable,
        "isChargeable": True,
        "generalLedgerAccount": None,
        "costOfSaleAccount": None,
        "assetAccount": None,
        "membershipTypeId": 0,
        "itemGroup": None,
        "displayName": item.sku_name,
        "soldHours": None,
        "createdOn": iso(item.created_on),
        "modifiedOn": iso(item.modified_on),
        "serviceDate": iso_or_none(invoice.invoice_date),
        "order": item.order,
        "businessUnit": named_ref(bu.id, bu.name) if bu else None,
        "createdById": None,
        "displayInAmount": None,
        "importId": None,
        "exportId": None,
        "inventoryStatus": None,
        "addOn": False,
        "memberPrice": None,
        "technicianId": item.technician_id,
        "installedEquipmentId": None,
        "estimateItemId": None,
    }


def invoice(inv: Invoice, tenant: SandboxTenant) -> Json:
    cust = tenant.customers.get(inv.customer_id)
    loc = tenant.locations.get(inv.location_id)
    bu = tenant.business_units.get(inv.business_unit_id)
    j = tenant.jobs.get(inv.job_id) if inv.job_id else None
    jt = tenant.job_types.get(j.job_type_id) if j else None
    return {
        "id": inv.id,
        "syncStatus": inv.status,
        "budgetCodeId": None,
        "referenceNumber": inv.reference_number,
        "invoiceDate": iso_or_none(inv.invoice_date),
        "dueDate": iso_or_none(inv.due_date),
        "subTotal": money(inv.sub_total),
        "salesTax": money(inv.sales_tax),
        "salesTaxCode": None,
        "taxZoneId": None,
        "total": money(inv.total),
        "balance": money(inv.balance),
        "invoiceType": None,
        "customer": named_ref(cust.id, cust.name) if cust else None,
        "customerAddress": _address_ref(cust.address) if cust else None,
        "location": named_ref(loc.id, loc.name) if loc else None,
        "locationAddress": _address_ref(loc.address) if loc else None,
        "businessUnit": named_ref(bu.id, bu.name) if bu else None,
        "termName": "Due Upon Receipt",
        "createdBy": None,
        "batch": None,
        "depositedOn": None,
        "createdOn": iso(inv.created_on),
        "modifiedOn": iso(inv.modified_on),
        "adjustmentToId": None,
        "job": {"id": j.id, "number": j.job_number, "type": jt.name if jt else None} if j else None,
        "projectId": None,
        "royalty": None,
        "employeeInfo": None,
        "commissionEligibilityDate": None,
        "sentStatus": "Sent" if inv.status != "Pending" else "NotSent",
        "reviewStatus": invoice_review_status(inv),
        "assignedTo": None,
        "summary": inv.summary,
        "items": [invoice_item(item, inv, tenant) for item in inv.items],
        "customFields": [],
        "active": inv.active,
        "discountTotal": money(0.0),
        "importId": None,
        "exportId": None,
        "materialSkuId": None,
        "membershipId": inv.membership_id,
        "paidOn": iso_or_none(inv.paid_on),
        "invoiceConfiguration": "JobInvoice",
    }


def invoice_review_status(inv: Invoice) -> str:
    return "Invoiced" if inv.status != "Pending" else "NeedsReview"
