"""List envelopes, the common query parameters, and ProblemDetails for bad input."""

from __future__ import annotations

import httpx
import pytest

from st_mcp.sandbox import SandboxTenant

from .conftest import api_path, errors_of, problem

pytestmark = pytest.mark.anyio

CUSTOMERS = api_path("crm", "customers")


async def test_envelope_paging_and_total(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    first = (await api.get(CUSTOMERS)).json()
    assert set(first) == {"page", "pageSize", "hasMore", "totalCount", "data"}
    assert (first["page"], first["pageSize"], first["hasMore"], first["totalCount"]) == (1, 50, False, None)
    assert len(first["data"]) == len(tenant.customers) == 50

    page2 = (await api.get(CUSTOMERS, params={"page": 2, "pageSize": 20, "includeTotal": "true"})).json()
    assert (page2["page"], page2["pageSize"], page2["hasMore"], page2["totalCount"]) == (2, 20, True, 50)
    assert [c["id"] for c in page2["data"]] == sorted(tenant.customers)[20:40]
    last = (await api.get(CUSTOMERS, params={"page": 3, "pageSize": 20})).json()
    assert last["hasMore"] is False and len(last["data"]) == 10


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageSize": 5001}, "pageSize"),
        ({"pageSize": 0}, "pageSize"),
        ({"page": 0}, "page"),
        ({"ids": ",".join(str(i) for i in range(1, 52))}, "ids"),
        ({"ids": "1,two,3"}, "ids"),
        ({"active": "Maybe"}, "active"),
        ({"createdOnOrAfter": "last tuesday"}, "createdOnOrAfter"),
        ({"includeTotal": "yes"}, "includeTotal"),
        ({"sort": "+Name"}, "sort"),
    ],
)
async def test_bad_query_parameters_are_400(api: httpx.AsyncClient, params: dict, field: str) -> None:
    body = problem(await api.get(CUSTOMERS, params=params), 400)
    assert field in body["errors"]


async def test_ids_active_sort_and_date_ranges(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    ids = sorted(tenant.customers)[:50]
    data = (await api.get(CUSTOMERS, params={"ids": ",".join(map(str, ids))})).json()["data"]
    assert [c["id"] for c in data] == ids

    units = api_path("settings", "business-units")
    active = {u["name"] for u in (await api.get(units)).json()["data"]}
    inactive = {u["name"] for u in (await api.get(units, params={"active": "False"})).json()["data"]}
    every = {u["name"] for u in (await api.get(units, params={"active": "any"})).json()["data"]}
    assert "Solar" not in active and inactive == {"Solar"} and every == active | inactive

    descending = (await api.get(CUSTOMERS, params={"sort": "-Id", "pageSize": 5})).json()["data"]
    assert [c["id"] for c in descending] == sorted(tenant.customers, reverse=True)[:5]
    by_created = (await api.get(CUSTOMERS, params={"sort": " CreatedOn"})).json()[
        "data"
    ]  # "+" sent unencoded
    assert [c["createdOn"] for c in by_created] == sorted(c["createdOn"] for c in by_created)

    middle = sorted(c.created_on for c in tenant.customers.values())[25]
    newer = (await api.get(CUSTOMERS, params={"createdOnOrAfter": middle.isoformat()})).json()["data"]
    older = (await api.get(CUSTOMERS, params={"createdBefore": middle.isoformat()})).json()["data"]
    assert len(newer) + len(older) == 50 and len(newer) == 25


async def test_not_found_is_problem_details(api: httpx.AsyncClient) -> None:
    body = problem(await api.get(api_path("crm", "customers/1")), 404)
    assert "Customer" in body["title"]
    problem(await api.get(api_path("crm", "no-such-thing")), 404)
    problem(await api.delete(api_path("crm", "customers")), 405)


async def test_body_validation_names_the_fields(api: httpx.AsyncClient) -> None:
    body = problem(await api.post(api_path("crm", "leads"), json={"summary": 5}), 400)
    assert body["errors"]["campaignId"] == ["The campaignId field is required."]
    assert "summary" in body["errors"]
    assert "$" in errors_of(await api.post(api_path("crm", "leads"), content=b"{nope"), 400)
    assert "$" in errors_of(await api.post(api_path("crm", "leads")), 400)
    bad_enum = {"campaignId": 1, "summary": "x", "priority": "Whenever"}
    assert "priority" in errors_of(await api.post(api_path("crm", "leads"), json=bad_enum), 400)
