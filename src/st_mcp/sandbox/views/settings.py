"""Wire shapes — Settings: technicians, business units, tag types."""

from __future__ import annotations

from ..entities import (
    BusinessUnit,
    TagType,
    Technician,
)
from ..times import iso
from .common import Json, address


def technician(t: Technician) -> Json:
    home = None
    if t.home is not None:
        home = {
            "street": t.home.street,
            "unit": t.home.unit,
            "country": t.home.country,
            "city": t.home.city,
            "state": t.home.state,
            "zip": t.home.zip,
            "streetAddress": t.home.street,
            "latitude": t.home.latitude,
            "longitude": t.home.longitude,
        }
    return {
        "id": t.id,
        "userId": t.user_id,
        "name": t.name,
        "roleIds": [],
        "businessUnitId": t.business_unit_id,
        "mainZoneId": t.zone_ids[0] if t.zone_ids else None,
        "zoneIds": list(t.zone_ids),
        "createdOn": iso(t.created_on),
        "modifiedOn": iso(t.modified_on),
        "email": t.email,
        "phoneNumber": t.phone,
        "loginName": t.email.split("@", 1)[0],
        "home": home,
        "dailyGoal": 1800.0,
        "isManagedTech": False,
        "licenseType": "NonManagedTech",
        "customFields": [],
        "active": t.active,
        "aadUserId": None,
        "burdenRate": 0.0,
        "team": t.team,
        "jobFilter": "AllScheduledDispatchedWorking",
        "permissions": [],
        "accountLocked": False,
        "commissionRate": 0.0,
        "currentValue": None,
        "firstName": t.first_name,
        "lastName": t.last_name,
        "hourlyRate": t.hourly_rate,
        "jobId": None,
        "mobilePhone": t.phone,
        "outboundCallerId": None,
        "payrollId": None,
        "payrollProfileId": None,
        "appoitmentId": None,  # sic: the spec's spelling
        "shiftStart": None,
        "shiftEnd": None,
        "soldByRate": 0.0,
        "startDate": iso(t.created_on),
        "status": "Idle",
        "skills": [{"id": skill_id, "name": name} for skill_id, name in t.skills],
        "positions": list(t.positions),
        "location": None,
        "bio": None,
        "memo": None,
    }


def business_unit(b: BusinessUnit, tenant_id: int, tenant_name: str) -> Json:
    return {
        "id": b.id,
        "active": b.active,
        "name": b.name,
        "officialName": b.official_name,
        "email": b.email,
        "currency": "USD",
        "phoneNumber": b.phone,
        "invoiceHeader": None,
        "invoiceMessage": None,
        "defaultTaxRate": 0.0,
        "authorizationParagraph": None,
        "acknowledgementParagraph": None,
        "address": {**address(b.address), "isManualCoordinates": False, "isMilitary": False},
        "materialSku": None,
        "quickbooksClass": None,
        "accountCode": None,
        "franchiseId": None,
        "conceptCode": None,
        "corporateContractNumber": None,
        "trade": {"id": b.trade[0], "name": b.trade[1]},
        "division": None,
        "tagTypeIds": list(b.tag_type_ids),
        "tenant": {
            "id": tenant_id,
            "name": tenant_name,
            "accountCode": None,
            "franchiseId": None,
            "conceptCode": None,
            "modifiedOn": iso(b.modified_on),
        },
        "createdOn": iso(b.created_on),
        "modifiedOn": iso(b.modified_on),
        "externalData": [],
        "certifiedSentriconSpecialistCode": None,
    }


def tag_type(t: TagType) -> Json:
    return {
        "id": t.id,
        "name": t.name,
        "color": t.color,
        "code": t.code,
        "importance": t.importance,
        "isConversionOpportunity": t.is_conversion_opportunity,
        "allowToUseOnTimesheetActivity": False,
        "isVisibleOnDispatchBoard": t.is_visible_on_dispatch_board,
        "active": t.active,
        "createdOn": iso(t.created_on),
        "modifiedOn": iso(t.modified_on),
    }
