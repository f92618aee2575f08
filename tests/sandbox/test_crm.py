"""Customers, locations, contacts, notes and leads."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from st_mcp.sandbox import SandboxTenant

from .conftest import MONDAY_9AM, api_path, errors_of, problem

pytestmark = pytest.mark.anyio

APP_GUID = "5b1f6c1e-8a2d-4c43-9d8e-0c6b2f3a9e11"


def new_customer(zip_code: str = "80205", phone: str = "(303) 555-0111") -> dict:
    address = {"street": "2450 Welton St", "city": "Denver", "state": "CO", "zip": zip_code, "country": "USA"}
    return {
        "name": "Alex Kim",
        "type": "Residential",
        "address": address,
        "locations": [
            {
                "name": "Home",
                "address": address,
                "contacts": [{"type": "MobilePhone", "value": phone, "memo": "cell"}],
            }
        ],
        "contacts": [{"type": "Email", "value": "alex.kim@example.com"}],
        "externalData": {
            "applicationGuid": APP_GUID,
            "externalData": [{"key": "interaction", "value": "int-42"}],
        },
    }


async def test_create_get_and_find_customer_by_phone(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    created = await api.post(api_path("crm", "customers"), json=new_customer())
    assert created.status_code == 200, created.text
    body = created.json()
    customer_id, location = body["id"], body["locations"][0]
    assert body["createdOn"] == "2026-03-09T15:00:00Z" and body["createdById"] == tenant.api_user_id
    assert location["customerId"] == customer_id and location["zoneId"] == tenant.zone_for_zip("80205").id
    assert location["contacts"][0]["value"] == "(303) 555-0111"
    # The location's phone is copied to the customer, next to the customer's own e-mail.
    assert {(c["type"], c["value"]) for c in body["contacts"]} == {
        ("Email", "alex.kim@example.com"),
        ("MobilePhone", "(303) 555-0111"),
    }
    assert body["externalData"] == [{"key": "interaction", "value": "int-42"}]

    fetched = (await api.get(api_path("crm", f"customers/{customer_id}"))).json()
    assert fetched["name"] == "Alex Kim" and fetched["externalData"] == []  # not this app's GUID: hidden

    for typed in ("3035550111", "+1 303-555-0111", "303.555.0111"):
        found = (await api.get(api_path("crm", "customers"), params={"phone": typed})).json()["data"]
        assert [c["id"] for c in found] == [customer_id]

    contacts = (await api.get(api_path("crm", f"customers/{customer_id}/contacts"))).json()["data"]
    phone = next(c for c in contacts if c["type"] == "MobilePhone")
    assert phone["phoneSettings"] == {"phoneNumber": "3035550111", "doNotText": False}
    locations = await api.get(api_path("crm", "locations"), params={"customerId": customer_id})
    assert [loc["id"] for loc in locations.json()["data"]] == [location["id"]]


async def test_out_of_area_location_has_no_zone(api: httpx.AsyncClient) -> None:
    body = (await api.post(api_path("crm", "customers"), json=new_customer("81003", "(719) 555-0111"))).json()
    assert body["locations"][0]["zoneId"] is None


async def test_customer_validation(api: httpx.AsyncClient) -> None:
    no_locations = dict(new_customer(), locations=[])
    assert "locations" in errors_of(await api.post(api_path("crm", "customers"), json=no_locations), 400)
    no_name = {k: v for k, v in new_customer().items() if k != "name"}
    assert "name" in errors_of(await api.post(api_path("crm", "customers"), json=no_name), 400)
    bad_phone = new_customer(phone="555-01")
    errors = errors_of(await api.post(api_path("crm", "customers"), json=bad_phone), 400)
    assert "locations[0].contacts[0].value" in errors
    bad_guid = dict(new_customer(), externalData={"applicationGuid": "nope", "externalData": []})
    response = await api.post(api_path("crm", "customers"), json=bad_guid)
    assert "externalData.applicationGuid" in errors_of(response, 400)


async def test_search_and_filters(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    found = (await api.get(api_path("crm", "customers"), params={"name": "jordan av"})).json()["data"]
    assert [c["name"] for c in found] == ["Jordan Avery"]
    by_last_digits = (await api.get(api_path("crm", "customers"), params={"phone": "555-0142"})).json()[
        "data"
    ]
    assert [c["name"] for c in by_last_digits] == ["Jordan Avery"]
    tampa = (await api.get(api_path("crm", "customers"), params={"zip": "336"})).json()["data"]
    assert tampa and all(c["address"]["state"] == "FL" for c in tampa)
    do_not_service = [c for c in tenant.customers.values() if c.do_not_service]
    assert any(c.name == "Gloria Pruitt" for c in do_not_service)


async def test_patch_customer_and_notes(api: httpx.AsyncClient, tenant: SandboxTenant, clock) -> None:
    jordan = tenant.customers_by_phone("303-555-0142")[0]
    clock.advance(60)
    patched = (await api.patch(api_path("crm", f"customers/{jordan.id}"), json={"doNotMail": True})).json()
    assert patched["doNotMail"] is True and patched["modifiedOn"] == "2026-03-09T15:01:00Z"
    problem(await api.patch(api_path("crm", "customers/42"), json={"doNotMail": True}), 404)

    note = await api.post(
        api_path("crm", f"customers/{jordan.id}/notes"), json={"text": "Gate code 4411", "pinToTop": True}
    )
    assert note.status_code == 200 and note.json()["isPinned"] is True
    notes = (await api.get(api_path("crm", f"customers/{jordan.id}/notes"))).json()["data"]
    assert notes[-1]["text"] == "Gate code 4411"


async def test_contacts_create_and_bulk_list(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    jordan = tenant.customers_by_phone("3035550142")[0]
    path = api_path("crm", f"customers/{jordan.id}/contacts")
    created = await api.post(path, json={"type": "MobilePhone", "value": "720-555-0100"})
    assert created.status_code == 200
    problem(await api.post(path, json={"type": "MobilePhone", "value": "(720) 555-0100"}), 409)
    bulk = await api.get(api_path("crm", "customers/contacts"), params={"customerIds": str(jordan.id)})
    assert {c["customerId"] for c in bulk.json()["data"]} == {jordan.id}
    problem(await api.get(api_path("crm", "customers/contacts")), 400)


async def test_create_location_for_customer(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    jordan = tenant.customers_by_phone("3035550142")[0]
    address = {"street": "77 Pine St", "city": "Boulder", "state": "CO", "zip": "80302", "country": "USA"}
    body = {"customerId": jordan.id, "name": "Cabin", "address": address}
    created = (await api.post(api_path("crm", "locations"), json=body)).json()
    assert created["zoneId"] == tenant.zone_for_zip("80302").id and created["contacts"] == []
    missing = dict(body, customerId=1)
    assert "customerId" in errors_of(await api.post(api_path("crm", "locations"), json=missing), 400)


async def test_open_leads_of_the_last_day(api: httpx.AsyncClient) -> None:
    since = (MONDAY_9AM - timedelta(days=1)).isoformat()
    leads = (
        await api.get(api_path("crm", "leads"), params={"status": "Open", "createdOnOrAfter": since})
    ).json()
    states = {lead["leadState"] for lead in leads["data"] if lead["leadState"]}
    assert {"CO", "FL", "TX"} <= states
    assert all(lead["status"] == "Open" for lead in leads["data"])
    by_phone = (await api.get(api_path("crm", "leads"), params={"leadPhone": "8135550171"})).json()["data"]
    assert [lead["leadCustomerName"] for lead in by_phone] == ["Sofia Alvarez"]


async def test_lead_lifecycle(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    campaign = tenant.campaign_named("Virtual Agent").id
    body = {"campaignId": campaign, "summary": "No heat", "leadPhone": "720-555-0199", "leadState": "CO"}
    lead = (await api.post(api_path("crm", "leads"), json=body)).json()
    assert (lead["status"], lead["priority"], lead["campaignId"]) == ("Open", "Normal", campaign)

    patched = (await api.patch(api_path("crm", f"leads/{lead['id']}"), json={"priority": "High"})).json()
    assert patched["priority"] == "High"
    follow_up = {"followUpDate": "2026-03-09T16:00:00Z", "text": "Texted twice", "pinToTop": False}
    answer = (await api.post(api_path("crm", f"leads/{lead['id']}/follow-up"), json=follow_up)).json()
    assert answer == {
        "leadId": lead["id"],
        "followUpDate": "2026-03-09T16:00:00Z",
        "text": "Texted twice",
        "pinToTop": False,
    }
    note = await api.post(api_path("crm", f"leads/{lead['id']}/notes"), json={"text": "Prefers texts"})
    assert note.status_code == 200
    notes = (await api.get(api_path("crm", f"leads/{lead['id']}/notes"))).json()["data"]
    assert [n["text"] for n in notes] == ["Texted twice", "Prefers texts"]

    dismissed = await api.post(api_path("crm", f"leads/{lead['id']}/dismiss"), json={"dismissingReasonId": 3})
    assert dismissed.status_code == 200 and dismissed.content == b""
    assert (await api.get(api_path("crm", f"leads/{lead['id']}"))).json()["status"] == "Dismissed"
    problem(
        await api.post(api_path("crm", f"leads/{lead['id']}/dismiss"), json={"dismissingReasonId": 3}), 400
    )
    unknown_campaign = dict(body, campaignId=5)
    assert "campaignId" in errors_of(await api.post(api_path("crm", "leads"), json=unknown_campaign), 400)
