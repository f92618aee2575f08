"""Wire shapes — Job planning: jobs, job notes, job types, cancel reasons, appointments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..entities import (
    Appointment,
    CancelReason,
    Job,
    JobNote,
    JobType,
)
from ..times import iso, iso_or_none
from .common import Json, external_data

if TYPE_CHECKING:
    from ..state import SandboxTenant


def job(j: Job, tenant: SandboxTenant, application_guid: str | None = None) -> Json:
    invoice = tenant.invoices.get(j.invoice_id)
    ids = j.appointment_ids
    return {
        "id": j.id,
        "jobNumber": j.job_number,
        "projectId": j.project_id,
        "customerId": j.customer_id,
        "locationId": j.location_id,
        "jobStatus": j.status,
        "completedOn": iso_or_none(j.completed_on),
        "businessUnitId": j.business_unit_id,
        "jobTypeId": j.job_type_id,
        "priority": j.priority,
        "campaignId": j.campaign_id,
        "appointmentCount": len(ids),
        "firstAppointmentId": ids[0] if ids else 0,
        "lastAppointmentId": ids[-1] if ids else 0,
        "recallForId": None,
        "warrantyId": None,
        "jobGeneratedLeadSource": j.job_generated_lead_source,
        "noCharge": j.no_charge,
        "notificationsEnabled": True,
        "createdOn": iso(j.created_on),
        "createdById": j.created_by_id,
        "modifiedOn": iso(j.modified_on),
        "tagTypeIds": list(j.tag_type_ids),
        "leadCallId": None,
        "partnerLeadCallId": None,
        "bookingId": j.booking_id,
        "soldById": j.sold_by_id,
        "customerPo": j.customer_po,
        "invoiceId": j.invoice_id,
        "membershipId": j.membership_id,
        "total": invoice.sub_total if invoice else None,
        "createdFromEstimateId": None,
        "estimateIds": [],
        "equipmentIds": [],
        "isAutoDispatched": False,
        "summary": j.summary,
        "customFields": [
            {"typeId": f.type_id, "name": f.name, "value": f.value or ""} for f in j.custom_fields
        ],
        "externalData": external_data(j.external_data, application_guid),
        "summaryOfWork": j.summary_of_work,
    }


def job_note(n: JobNote) -> Json:
    return {
        "text": n.text,
        "isPinned": n.is_pinned,
        "createdById": n.created_by_id,
        "createdOn": iso(n.created_on),
        "modifiedOn": iso(n.modified_on),
    }


def job_type(t: JobType, application_guid: str | None = None) -> Json:
    return {
        "id": t.id,
        "name": t.name,
        "businessUnitIds": list(t.business_unit_ids),
        "skills": list(t.skills),
        "tagTypeIds": list(t.tag_type_ids),
        "priority": t.priority,
        "duration": t.duration_seconds,
        "soldThreshold": t.sold_threshold,
        "class": t.job_class,
        "summary": t.summary,
        "noCharge": False,
        "enforceRecurringServiceEventSelection": False,
        "invoiceSignaturesRequired": False,
        "modifiedOn": iso(t.modified_on),
        "createdOn": iso(t.created_on),
        "externalData": [],
        "active": t.active,
        "isSmartDispatched": False,
        "defaultEstimateSoldAction": "None",
        "customFieldTypeIds": [],
    }


def cancel_reason(r: CancelReason) -> Json:
    return {
        "id": r.id,
        "name": r.name,
        "active": r.active,
        "createdOn": iso(r.created_on),
        "modifiedOn": iso(r.modified_on),
    }


def _appointment_core(a: Appointment) -> Json:
    return {
        "id": a.id,
        "jobId": a.job_id,
        "appointmentNumber": a.number,
        "start": iso(a.start),
        "end": iso(a.end),
        "arrivalWindowStart": iso_or_none(a.arrival_window_start),
        "arrivalWindowEnd": iso_or_none(a.arrival_window_end),
        "status": a.status,
        "specialInstructions": a.special_instructions,
        "createdOn": iso(a.created_on),
        "modifiedOn": iso(a.modified_on),
    }


def appointment(a: Appointment) -> Json:
    """Jpm.V2.AppointmentResponse."""
    return {
        **_appointment_core(a),
        "customerId": a.customer_id,
        "unused": a.unused,
        "createdById": a.created_by_id,
        "isConfirmed": a.is_confirmed,
        "active": a.active,
        "appointmentSummaries": [],
    }


def dispatch_appointment(a: Appointment) -> Json:
    """Dispatch.V2.AppointmentResponse (what assign/unassign return)."""
    return _appointment_core(a)
