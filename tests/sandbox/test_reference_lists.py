"""Filters of the back-office lists: settings, marketing, memberships, invoices, shifts, tasks."""

from __future__ import annotations

import httpx
import pytest

from st_mcp.sandbox import SandboxTenant

from .conftest import api_path, problem

pytestmark = pytest.mark.anyio


async def data(api: httpx.AsyncClient, module: str, path: str, **params: object) -> list[dict]:
    response = await api.get(api_path(module, path), params={"pageSize": 5000, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_settings_and_marketing_filters(api: httpx.AsyncClient) -> None:
    assert [c["name"] for c in await data(api, "marketing", "campaigns", name="VIRTUAL")] == ["Virtual Agent"]
    angi = (await data(api, "marketing", "campaigns", name="angi"))[0]
    by_number = await data(api, "marketing", "campaigns", campaignPhoneNumber=angi["campaignPhoneNumbers"][0])
    assert [c["id"] for c in by_number] == [angi["id"]]
    names = [c["name"] for c in await data(api, "marketing", "campaigns", sort="-Name")]
    assert names == sorted(names, reverse=True)
    assert [t["name"] for t in await data(api, "settings", "technicians", name="tasha")] == ["Tasha Reid"]
    assert {t["name"] for t in await data(api, "settings", "tag-types")} >= {"AI Booked", "Member"}
    long_jobs = await data(api, "jpm", "job-types", minDuration=7200)
    assert long_jobs and all(t["duration"] >= 7200 for t in long_jobs)
    by_name = await data(api, "jpm", "job-types", name="garage", orderBy="id", orderByDirection="desc")
    assert [t["name"] for t in by_name] == ["Garage Door Opener Install", "Garage Door Repair"]


async def test_memberships_and_invoices(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    jordan = tenant.customers_by_phone("3035550142")[0]
    memberships = await data(api, "memberships", "memberships", customerIds=str(jordan.id), status="Active")
    assert len(memberships) == 1 and memberships[0]["billingFrequency"] in ("Annual", "Monthly")
    assert len(await data(api, "memberships", "memberships", status="Canceled", active="Any")) == 1

    invoices = await data(api, "accounting", "invoices", customerId=jordan.id)
    assert invoices and all(i["customer"]["id"] == jordan.id for i in invoices)
    closed = await data(api, "accounting", "invoices", statuses=["Posted", "Exported"])
    assert closed and all(i["syncStatus"] in ("Posted", "Exported") for i in closed)
    assert all(float(i["total"]) >= 300 for i in await data(api, "accounting", "invoices", totalGreater=300))
    unpaid = await data(
        api, "accounting", "invoices", **{"balanceFilter.Balance": 0, "balanceFilter.Comparer": "Greater"}
    )
    assert all(float(i["balance"]) > 0 for i in unpaid)
    response = await api.get(api_path("accounting", "invoices"), params={"totalGreater": "lots"})
    problem(response, 400)


async def test_shifts_and_appointments(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    tasha = tenant.technician_named("Tasha Reid").id
    time_off = await data(api, "dispatch", "technician-shifts", shiftType="TimeOff", technicianId=tasha)
    assert [s["title"] for s in time_off] == ["Vacation", "Vacation"]
    on_call = await data(api, "dispatch", "technician-shifts", shiftType="oncall", titleContains="weekend")
    assert on_call and all(s["shiftType"] == "OnCall" for s in on_call)
    working = await data(api, "jpm", "appointments", status="Working")
    assert working and all(a["status"] == "Working" for a in working)
    windows = await data(api, "dispatch", "arrival-windows")
    assert [(w["start"], w["duration"]) for w in windows] == [
        ("08:00:00", "02:00:00"),
        ("10:00:00", "02:00:00"),
        ("12:00:00", "02:00:00"),
        ("14:00:00", "02:00:00"),
        ("16:00:00", "02:00:00"),
    ]
    hours = (await api.get(api_path("dispatch", "business-hours"))).json()
    assert hours == {
        "weekdays": [{"fromHour": 7, "toHour": 18}],
        "saturday": [{"fromHour": 8, "toHour": 14}],
        "sunday": [],
    }


async def test_escalation_task(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    reference = (await api.get(api_path("taskmanagement", "data"))).json()
    agent = next(e["id"] for e in reference["employees"] if e["name"] == "Virtual Agent")
    dispatcher = next(e["id"] for e in reference["employees"] if e["name"] == "Dana Whitfield")
    escalation = next(t["id"] for t in reference["taskTypes"] if t["name"] == "Escalation")
    source = next(s["id"] for s in reference["taskSources"] if s["name"] == "Virtual Agent")
    body = {
        "reportedById": agent,
        "assignedToId": dispatcher,
        "isClosed": False,
        "name": "Escalated (Human Request)",
        "businessUnitId": reference["businessUnits"][0]["value"],
        "employeeTaskTypeId": escalation,
        "employeeTaskSourceId": source,
        "reportedDate": "2026-03-09T15:00:00Z",
        "priority": "Urgent",
    }
    created = (await api.post(api_path("taskmanagement", "tasks"), json=body)).json()
    assert created["taskNumber"] > 0 and created["status"] == "ToDo"
    mine = await data(api, "taskmanagement", "tasks", assignedToId=dispatcher, statuses="ToDo")
    assert [t["id"] for t in mine] == [created["id"]]
    assert (await api.get(api_path("taskmanagement", f"tasks/{created['id']}"))).json()[
        "priority"
    ] == "Urgent"
    unknown = dict(body, assignedToId=1)
    assert (
        "assignedToId"
        in problem(await api.post(api_path("taskmanagement", "tasks"), json=unknown), 400)["errors"]
    )
