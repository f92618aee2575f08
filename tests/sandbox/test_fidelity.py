"""ASP.NET-faithful edges Schemathesis found: four-digit years, date and integer ranges, System.Text.Json's
wording, 405 with every allowed method, and documented filters honoured or refused — never ignored."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from st_mcp.sandbox import SandboxTenant
from st_mcp.sandbox.times import iso

from .conftest import api_path, errors_of, problem

pytestmark = pytest.mark.anyio

JOBS = api_path("jpm", "jobs")


def test_years_below_1000_have_four_digits() -> None:
    assert iso(datetime(320, 11, 1, 9, 5, tzinfo=UTC)) == "0320-11-01T09:05:00Z"
    assert iso(datetime(2026, 3, 9, 15, 0, 0, 250000, tzinfo=UTC)) == "2026-03-09T15:00:00.25Z"


def some_appointment(tenant: SandboxTenant) -> int:
    return next(a.id for a in tenant.appointments.values() if a.status == "Scheduled")


async def test_reschedule_refuses_dates_outside_the_stored_range(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    path = api_path("jpm", f"appointments/{some_appointment(tenant)}/reschedule")
    ancient = {"start": "0320-11-01T16:00:00Z", "end": "0320-11-01T18:00:00Z"}
    errors = errors_of(await api.patch(path, json=ancient), 400)
    assert errors == {"appointment.start": ["SqlDateTime overflow. Must be between 1/1/1753 12:00:00 AM and "
                                            "12/31/9999 11:59:59 PM."]}  # fmt: skip
    before_min = {"start": "0001-01-01T00:30:00+01:00", "end": "2026-03-11T18:00:00Z"}
    errors = errors_of(await api.patch(path, json=before_min), 400)
    assert errors == {"start": ["The JSON value could not be converted to System.DateTime. Path: $.start."]}


async def test_query_integers_are_range_checked(api: httpx.AsyncClient) -> None:
    for name, value in (("customerId", "9223372036854775808"), ("page", "2147483648"), ("ids", "1,1e3")):
        response = await api.get(JOBS, params={name: value})
        assert errors_of(response, 400) == {name: [f"The value '{value}' is not valid."]}
    assert (await api.get(JOBS, params={"customerId": "9223372036854775807"})).status_code == 200
    response = await api.get(JOBS, params={"createdBefore": "0001-01-01T00:00:00+01:00"})
    assert "createdBefore" in errors_of(response, 400)


async def test_body_type_errors_read_like_system_text_json(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    body = {"jobId": 5.0, "start": "2026-03-11T16:00:00Z", "end": "2026-03-11T18:00:00Z"}
    errors = errors_of(await api.post(api_path("jpm", "appointments"), json=body), 400)
    assert errors == {"jobId": ["The JSON value could not be converted to System.Int64. Path: $.jobId."]}
    body = {"jobId": "x", "start": True, "end": "2026-03-11T18:00:00Z"}
    text = (await api.post(api_path("jpm", "appointments"), json=body)).text
    assert "Input should" not in text and "System.DateTime. Path: $.start." in text


async def test_405_lists_every_method_of_the_path(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    response = await api.delete(f"{JOBS}/{next(iter(tenant.jobs))}")
    problem(response, 405)
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"GET", "HEAD", "PATCH"}


async def test_a_refused_parameter_is_named(api: httpx.AsyncClient) -> None:
    response = await api.get(api_path("crm", "leads"), params={"genPermUrl": "true"})
    assert list(errors_of(response, 400)) == ["genPermUrl"]
    response = await api.get(api_path("accounting", "invoices"), params={"customField.Operator": "And"})
    assert list(errors_of(response, 400)) == ["customField.Operator"]


async def ids(api: httpx.AsyncClient, path: str, **params: str) -> set[int]:
    response = await api.get(path, params={"pageSize": "5000", **params})
    assert response.status_code == 200, response.text
    return {row["id"] for row in response.json()["data"]}


async def test_filters_that_used_to_be_ignored_now_filter(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    leads = api_path("crm", "leads")
    with_customer = {lead.id for lead in tenant.leads.values() if lead.customer_id is not None}
    assert await ids(api, leads, customerCreatedOnOrAfter="2000-01-01T00:00:00Z") == with_customer
    assert await ids(api, leads, customerCreatedBefore="2000-01-01T00:00:00Z") == set()

    location = next(loc for loc in tenant.locations.values() if loc.address.latitude is not None)
    found = await ids(api, api_path("crm", "locations"), latitude=str(location.address.latitude))
    assert location.id in found and len(found) < len(tenant.locations)

    # No estimates or equipment in the sandbox: filtering by them finds no job rather than every job.
    for name in ("estimateIds", "equipmentIds", "createdFromEstimateId"):
        assert await ids(api, JOBS, **{name: "1"}) == set()

    invoices = api_path("accounting", "invoices")
    pending = {i.id for i in tenant.invoices.values() if i.active and i.status == "Pending"}
    assert await ids(api, invoices, reviewStatuses="NeedsReview") == pending
    for name in ("assignedToIds", "batchId", "adjustmentToId"):
        assert await ids(api, invoices, **{name: "1"}) == set()
    first = await api.get(invoices, params={"orderBy": "Id", "orderByDirection": "desc", "pageSize": "1"})
    assert first.json()["data"][0]["id"] == max(i.id for i in tenant.invoices.values() if i.active)
