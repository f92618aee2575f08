"""Jobs, appointments, assignments, external data and technician tracking."""

from __future__ import annotations

import httpx
import pytest

from st_mcp.sandbox import SandboxTenant

from .conftest import api_path, errors_of, problem

pytestmark = pytest.mark.anyio

APP_GUID = "0f8d3c9e-2b7a-4e15-9a61-3c2d4e5f6a7b"
OTHER_GUID = "11111111-2222-3333-4444-555555555555"
START, END = "2026-03-11T16:00:00Z", "2026-03-11T18:00:00Z"  # Wednesday 10–12 in Denver


def job_body(tenant: SandboxTenant, **overrides: object) -> dict:
    priya = tenant.customers_by_phone("7205550118")[0]
    body = {
        "customerId": priya.id,
        "locationId": tenant.customer_locations(priya.id)[0].id,
        "businessUnitId": tenant.business_unit_named("HVAC").id,
        "jobTypeId": tenant.job_type_named("No Cool / AC Repair").id,
        "priority": "Normal",
        "campaignId": tenant.campaign_named("Virtual Agent").id,
        "summary": "AC blowing warm air",
        "tagTypeIds": [tenant.tag_type_named("AI Booked").id],
        "appointments": [
            {
                "start": START,
                "end": END,
                "arrivalWindowStart": START,
                "arrivalWindowEnd": END,
                "technicianIds": [tenant.technician_named("Carlos Ortega").id],
            }
        ],
        "externalData": {
            "applicationGuid": APP_GUID,
            "externalData": [{"key": "idempotencyKey", "value": "book-7f3a"}],
        },
    }
    return {**body, **overrides}


async def create_job(api: httpx.AsyncClient, tenant: SandboxTenant, **overrides: object) -> dict:
    response = await api.post(api_path("jpm", "jobs"), json=job_body(tenant, **overrides))
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_job_with_appointment_and_technician(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    job = await create_job(api, tenant)
    assert job["jobStatus"] == "Scheduled" and isinstance(job["jobNumber"], str)
    assert job["appointmentCount"] == 1 and job["firstAppointmentId"] == job["lastAppointmentId"]
    assert job["tagTypeIds"] == [tenant.tag_type_named("AI Booked").id]
    assert job["invoiceId"] in tenant.invoices and job["total"] == 0.0
    assert tenant.jobs[job["id"]].status == "Scheduled"

    appointment = (await api.get(api_path("jpm", f"appointments/{job['firstAppointmentId']}"))).json()
    assert (appointment["start"], appointment["end"], appointment["status"]) == (START, END, "Scheduled")
    assert appointment["arrivalWindowStart"] == START and appointment["jobId"] == job["id"]
    by_job = (await api.get(api_path("jpm", "appointments"), params={"jobId": job["id"]})).json()["data"]
    assert [a["id"] for a in by_job] == [appointment["id"]]

    assignments = (
        await api.get(api_path("dispatch", "appointment-assignments"), params={"jobId": job["id"]})
    ).json()
    [assignment] = assignments["data"]
    assert (
        assignment["technicianName"] == "Carlos Ortega" and assignment["appointmentId"] == appointment["id"]
    )

    carlos = tenant.technician_named("Carlos Ortega").id
    found = await api.get(
        api_path("jpm", "jobs"), params={"technicianId": carlos, "appointmentStartsOnOrAfter": START}
    )
    assert job["id"] in [j["id"] for j in found.json()["data"]]
    by_number = (await api.get(api_path("jpm", "jobs"), params={"number": job["jobNumber"]})).json()["data"]
    assert [j["id"] for j in by_number] == [job["id"]]


async def test_external_data_is_private_and_searchable(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    job = await create_job(api, tenant)
    assert job["externalData"] == [{"key": "idempotencyKey", "value": "book-7f3a"}]
    assert (await api.get(api_path("jpm", f"jobs/{job['id']}"))).json()["externalData"] == []
    mine = await api.get(
        api_path("jpm", f"jobs/{job['id']}"), params={"externalDataApplicationGuid": APP_GUID}
    )
    assert mine.json()["externalData"] == [{"key": "idempotencyKey", "value": "book-7f3a"}]

    # After a crash the server finds the job it booked by its idempotency key.
    search = {
        "externalDataApplicationGuid": APP_GUID,
        "externalDataKey": "idempotencyKey",
        "externalDataValues": "x,book-7f3a",
    }
    found = (await api.get(api_path("jpm", "jobs"), params=search)).json()["data"]
    assert [j["id"] for j in found] == [job["id"]] and found[0]["externalData"][0]["value"] == "book-7f3a"
    other_app = dict(search, externalDataApplicationGuid=OTHER_GUID)
    assert (await api.get(api_path("jpm", "jobs"), params=other_app)).json()["data"] == []
    problem(await api.get(api_path("jpm", "jobs"), params={"externalDataKey": "idempotencyKey"}), 400)
    no_guid = {"externalDataKey": "idempotencyKey", "externalDataValues": "book-7f3a"}
    problem(await api.get(api_path("jpm", "jobs"), params=no_guid), 400)

    merge = {
        "externalData": {
            "patchMode": "Merge",
            "applicationGuid": APP_GUID,
            "externalData": [{"key": "interaction", "value": "int-9"}],
        }
    }
    patched = (await api.patch(api_path("jpm", f"jobs/{job['id']}"), json=merge)).json()
    assert {d["key"] for d in patched["externalData"]} == {"idempotencyKey", "interaction"}


async def test_job_business_rules_are_422_and_shape_errors_400(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    jobs = api_path("jpm", "jobs")
    body = job_body(tenant)
    del body["campaignId"]
    assert "campaignId" in errors_of(await api.post(jobs, json=body), 422)
    assert "jobTypeId" in errors_of(await api.post(jobs, json=job_body(tenant, jobTypeId=1)), 422)
    other_location = next(iter(tenant.locations))
    mismatch = job_body(tenant, locationId=other_location)
    assert "locationId" in errors_of(await api.post(jobs, json=mismatch), 422)
    gone = tenant.technician_named("Greg Lyle").id
    appointments = [dict(job_body(tenant)["appointments"][0], technicianIds=[gone])]
    response = await api.post(jobs, json=job_body(tenant, appointments=appointments))
    assert "appointments[0].technicianIds" in errors_of(response, 422)

    missing = job_body(tenant)
    del missing["customerId"]
    assert errors_of(await api.post(jobs, json=missing), 400) == {
        "customerId": ["The customerId field is required."]
    }
    assert "priority" in errors_of(await api.post(jobs, json=job_body(tenant, priority="ASAP")), 400)
    assert "appointments" in errors_of(await api.post(jobs, json=job_body(tenant, appointments=[])), 400)
    backwards = [{"start": END, "end": START}]
    response = await api.post(jobs, json=job_body(tenant, appointments=backwards))
    assert "appointments[0].end" in errors_of(response, 400)
    assert "customerId" in errors_of(await api.post(jobs, json=job_body(tenant, customerId="12")), 400)


async def test_cancel_and_remove_cancellation(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    job = await create_job(api, tenant)
    cancel = api_path("jpm", f"jobs/{job['id']}/cancel")
    assert "memo" in errors_of(
        await api.put(cancel, json={"reasonId": next(iter(tenant.cancel_reasons))}), 400
    )
    reason = next(r.id for r in tenant.cancel_reasons.values() if r.name == "Customer canceled")
    response = await api.put(cancel, json={"reasonId": reason, "memo": "Fixed it himself"})
    assert response.status_code == 200 and response.content == b""
    assert (await api.get(api_path("jpm", f"jobs/{job['id']}"))).json()["jobStatus"] == "Canceled"
    appointment = (await api.get(api_path("jpm", f"appointments/{job['firstAppointmentId']}"))).json()
    assert appointment["status"] == "Canceled"
    problem(await api.put(cancel, json={"reasonId": reason, "memo": "again"}), 400)
    canceled = (
        await api.get(api_path("jpm", "jobs"), params={"jobStatus": "canceled", "ids": job["id"]})
    ).json()
    assert [j["id"] for j in canceled["data"]] == [job["id"]]

    assert (await api.put(api_path("jpm", f"jobs/{job['id']}/remove-cancellation"))).status_code == 200
    assert (await api.get(api_path("jpm", f"jobs/{job['id']}"))).json()["jobStatus"] == "Scheduled"
    problem(await api.put(api_path("jpm", f"jobs/{job['id']}/remove-cancellation")), 400)
    problem(await api.put(api_path("jpm", "jobs/7/cancel"), json={"reasonId": reason, "memo": "x"}), 404)


async def test_job_notes(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    job = await create_job(api, tenant)
    note = (
        await api.post(api_path("jpm", f"jobs/{job['id']}/notes"), json={"text": "Dog in the yard"})
    ).json()
    assert note["text"] == "Dog in the yard" and note["isPinned"] is False and "id" not in note
    notes = (await api.get(api_path("jpm", f"jobs/{job['id']}/notes"))).json()["data"]
    assert [n["text"] for n in notes] == ["Dog in the yard"]


async def test_appointments_add_and_reschedule(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    job = await create_job(api, tenant)
    second = {
        "jobId": job["id"],
        "start": "2026-03-12T20:00:00Z",
        "end": "2026-03-12T21:00:00Z",
        "specialInstructions": "Bring the coil cleaner",
    }
    added = (await api.post(api_path("jpm", "appointments"), json=second)).json()
    assert added["specialInstructions"] == "Bring the coil cleaner"
    refreshed = (await api.get(api_path("jpm", f"jobs/{job['id']}"))).json()
    assert refreshed["appointmentCount"] == 2 and refreshed["lastAppointmentId"] == added["id"]

    move = {"start": "2026-03-11T14:00:00Z", "end": "2026-03-11T15:00:00Z"}
    moved = (await api.patch(api_path("jpm", f"appointments/{added['id']}/reschedule"), json=move)).json()
    assert moved["start"] == "2026-03-11T14:00:00Z"
    refreshed = (await api.get(api_path("jpm", f"jobs/{job['id']}"))).json()
    assert refreshed["firstAppointmentId"] == added["id"]  # now the earliest

    reason = next(iter(tenant.cancel_reasons))
    await api.put(
        api_path("jpm", f"jobs/{job['id']}/cancel"), json={"reasonId": reason, "memo": "no longer needed"}
    )
    problem(await api.patch(api_path("jpm", f"appointments/{added['id']}/reschedule"), json=move), 409)
    problem(await api.post(api_path("jpm", "appointments"), json=second), 409)


async def test_assign_unassign_and_tracking(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    job = await create_job(api, tenant)
    appointment_id = job["firstAppointmentId"]
    mike, carlos = tenant.technician_named("Mike Brennan").id, tenant.technician_named("Carlos Ortega").id
    assign = api_path("dispatch", "appointment-assignments/assign-technicians")
    unassign = api_path("dispatch", "appointment-assignments/unassign-technicians")
    response = (
        await api.post(assign, json={"jobAppointmentId": appointment_id, "technicianIds": [mike]})
    ).json()
    assert response["id"] == appointment_id and set(response) >= {"jobId", "start", "end", "status"}
    assert set(tenant.appointment_technician_ids(appointment_id)) == {mike, carlos}
    await api.post(unassign, json={"jobAppointmentId": appointment_id, "technicianIds": [carlos]})
    assert tenant.appointment_technician_ids(appointment_id) == [mike]
    problem(
        await api.post(unassign, json={"jobAppointmentId": appointment_id, "technicianIds": [carlos]}), 400
    )
    params = {"appointmentIds": str(appointment_id), "active": "Any"}
    every = (await api.get(api_path("dispatch", "appointment-assignments"), params=params)).json()["data"]
    assert sorted((a["technicianName"], a["active"]) for a in every) == [
        ("Carlos Ortega", False),
        ("Mike Brennan", True),
    ]

    tracking = api_path("dispatch", "technician-tracking")
    params = {"technicianId": mike, "appointmentId": appointment_id}
    problem(await api.get(tracking, params=params), 400)  # not dispatched yet
    tenant.set_appointment_status(appointment_id, "Dispatched")
    assert (await api.get(api_path("jpm", f"jobs/{job['id']}"))).json()["jobStatus"] == "Dispatched"
    link = (await api.get(tracking, params=params)).json()
    assert link["technicianTrackingUrl"].startswith("https://")
    problem(await api.get(tracking, params=dict(params, technicianId=carlos)), 400)
    assert "appointmentId" in errors_of(await api.get(tracking, params={"technicianId": mike}), 400)

    tenant.set_appointment_status(appointment_id, "Done")
    assert (await api.get(api_path("jpm", f"jobs/{job['id']}"))).json()["jobStatus"] == "Completed"
    problem(await api.post(assign, json={"jobAppointmentId": appointment_id, "technicianIds": [carlos]}), 409)


async def test_booking_from_a_lead_converts_it(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    lead = next(x for x in tenant.leads.values() if x.status == "Open" and x.customer_id)
    await create_job(api, tenant, leadId=lead.id)
    assert (await api.get(api_path("crm", f"leads/{lead.id}"))).json()["status"] == "Converted"
