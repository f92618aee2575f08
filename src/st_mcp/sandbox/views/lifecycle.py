"""Wire shapes — after the booking: installed equipment, telecom calls (v3), technician ratings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..entities import InstalledEquipment, TechnicianRating, TelecomCall
from ..times import iso, iso_or_none
from .common import Json, timespan

if TYPE_CHECKING:
    from ..state import SandboxTenant


def installed_equipment(x: InstalledEquipment) -> Json:
    return {
        "id": x.id,
        "active": x.active,
        "equipmentId": None,
        "locationId": x.location_id,
        "customerId": x.customer_id,
        "invoiceItemId": None,
        "name": x.name,
        "type": {"id": x.type_id, "name": x.type_name},
        "installedOn": iso_or_none(x.installed_on),
        "createdOn": iso(x.created_on),
        "modifiedOn": iso(x.modified_on),
        "serialNumber": x.serial_number,
        "barcodeId": None,
        "memo": x.memo,
        "manufacturer": x.manufacturer,
        "model": x.model,
        "cost": x.cost,
        "status": x.status,
        "manufacturerWarrantyStart": iso_or_none(x.installed_on),
        "manufacturerWarrantyEnd": None,
        "serviceProviderWarrantyStart": None,
        "serviceProviderWarrantyEnd": None,
        "tags": [],
        "actualReplacementDate": None,
        "manufacturedOn": x.manufactured_on.date().isoformat() if x.manufactured_on else None,
        "predictedReplacementMonths": None,
        "predictedReplacementDate": None,
    }


def call(c: TelecomCall, tenant: SandboxTenant) -> Json:
    from datetime import timedelta

    customer = tenant.customers.get(c.customer_id) if c.customer_id else None
    campaign = tenant.campaigns.get(c.campaign_id) if c.campaign_id else None
    agent = tenant.employees.get(c.agent_id) if c.agent_id else None
    unit = tenant.business_units.get(c.business_unit_id) if c.business_unit_id else None
    return {
        "id": c.id,
        "jobNumber": c.job_number,
        "projectId": 0,
        "businessUnit": {"id": unit.id, "name": unit.name} if unit else None,
        "type": None,
        "leadCall": {
            "createdOn": iso(c.created_on),
            "active": c.active,
            "id": c.id,
            "receivedOn": iso(c.received_on),
            "duration": timespan(timedelta(seconds=c.duration_seconds)),
            "from": c.from_number,
            "to": c.to_number,
            "direction": c.direction,
            "callType": c.call_type,
            "reason": {"id": 1, "name": c.reason, "lead": c.call_type == "Booked", "active": True}
            if c.reason
            else None,
            "recordingUrl": None,
            "voiceMailUrl": None,
            "createdBy": None,
            "customer": {"id": customer.id, "name": customer.name} if customer else None,
            "campaign": {"id": campaign.id, "name": campaign.name} if campaign else None,
            "modifiedOn": iso(c.modified_on),
            "agent": {"id": agent.id, "name": agent.name, "externalId": None} if agent else None,
            "sid": None,
            "tags": [],
        },
    }


def technician_rating(r: TechnicianRating) -> Json:
    return {
        "technicianId": r.technician_id,
        "jobId": r.job_id,
        "rating": r.rating,
        "active": r.active,
        "createdOn": iso(r.created_on),
        "modifiedOn": iso(r.modified_on),
    }
