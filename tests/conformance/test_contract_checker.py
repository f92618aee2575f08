"""Tests of the contract checker itself, on hand-made requests and responses that do and do not conform."""

from __future__ import annotations

import copy
import gzip
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from .conftest import find_openapi_dir
from .contract import (
    FORMAT_CHECKER,
    ContractRecordingTransport,
    ContractViolation,
    ServiceTitanContract,
    check_token_request,
    check_token_response,
)

BASE = "https://api.servicetitan.io"
AUTH = {"ST-App-Key": "ak1.test", "Authorization": "Bearer token-123"}
NOW = "2026-05-04T15:00:00Z"


def request(method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Request:
    return httpx.Request(method, BASE + path, headers=AUTH if headers is None else headers, **kwargs)


def response(req: httpx.Request, status: int = 200, body: Any = None, **kwargs: Any) -> httpx.Response:
    if body is not None:
        kwargs["json"] = body
    return httpx.Response(status, request=req, **kwargs)


def problems_of(exc: pytest.ExceptionInfo[ContractViolation]) -> str:
    return "\n".join(exc.value.problems)


# ------------------------------------------------------------------------------------------- fixtures data


def customer(customer_id: int | str = 1, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": customer_id,
        "active": True,
        "name": "Maria Lopez",
        "type": "Residential",
        "address": {
            "street": "12 Elm St",
            "unit": None,
            "city": "Plano",
            "state": "TX",
            "zip": "75023",
            "country": "USA",
            "latitude": 33.02,
            "longitude": -96.7,
        },
        "customFields": [],
        "balance": 125.5,
        "taxExempt": False,
        "tagTypeIds": [],
        "doNotMail": False,
        "doNotService": False,
        "nationalAccount": False,
        "createdOn": "2025-01-02T10:00:00Z",
        "createdById": 7,
        "modifiedOn": "2026-01-02T10:00:00.1234567Z",
        "mergedToId": None,
        "paymentTermId": None,
        "creditLimit": None,
        "creditLimitBalance": None,
        "externalData": [],
    }
    record.update(overrides)
    return record


def customer_page(count: int = 3) -> dict[str, Any]:
    return {
        "page": 1,
        "pageSize": 50,
        "hasMore": False,
        "totalCount": count,
        "data": [customer(i + 1) for i in range(count)],
    }


def job_create_body() -> dict[str, Any]:
    return {
        "customerId": 11,
        "locationId": 12,
        "businessUnitId": 3,
        "jobTypeId": 4,
        "priority": "Normal",
        "campaignId": 5,
        "appointments": [
            {
                "start": "2026-05-05T14:00:00Z",
                "end": "2026-05-05T16:00:00Z",
                "arrivalWindowStart": "2026-05-05T14:00:00Z",
                "arrivalWindowEnd": "2026-05-05T16:00:00Z",
            }
        ],
        "summary": "AC not cooling",
    }


def availability(**overrides: Any) -> dict[str, Any]:
    slot: dict[str, Any] = {
        "start": "2026-05-05T08:00:00Z",
        "end": "2026-05-05T10:00:00Z",
        "startUtc": "2026-05-05T13:00:00Z",
        "endUtc": "2026-05-05T15:00:00Z",
        "businessUnitIds": [3],
        "totalAvailability": 4.0,
        "openAvailability": 2,
        "technicians": [{"id": 21, "name": "Sam Tech", "status": "Available", "hasRequiredSkills": True}],
        "isAvailable": True,
        "isExceedingIdealBookingPercentage": False,
    }
    slot.update(overrides)
    return slot


def api_error(status: int = 400, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "Bad request",
        "status": status,
        "traceId": "00-abc-01",
        "errors": {"page": ["bad"]},
        "data": {},
    }
    body.update(overrides)
    return body


# ------------------------------------------------------------------------------------------------ routing


def test_literal_segment_beats_parameter(contract: ServiceTitanContract) -> None:
    assert (
        contract.resolve("GET", "/jpm/v2/tenant/1/jobs/cancel-reasons").operation_id
        == "Jobs_GetCancelReasons"
    )
    assert contract.resolve("GET", "/jpm/v2/tenant/1/jobs/hold-reasons").operation_id == "Jobs_GetHoldReasons"
    job = contract.resolve("GET", "/jpm/v2/tenant/1/jobs/55")
    assert (job.operation_id, job.template, dict(job.path_params)) == (
        "Jobs_Get",
        "/jpm/v2/tenant/{tenant}/jobs/{id}",
        {"tenant": "1", "id": "55"},
    )


def test_resolves_by_module_base_path(contract: ServiceTitanContract) -> None:
    cancel = contract.resolve("PUT", "/jpm/v2/tenant/4417001/jobs/55/cancel")
    assert (cancel.operation_id, cancel.source) == ("Jobs_Cancel", "jpm-v2.json")
    assert contract.resolve("POST", "/dispatch/v2/tenant/1/capacity").operation_id == "Capacity_GetList"
    assert contract.resolve("GET", "/crm/v2/tenant/1/customers").operation_id == "Customers_GetList"
    assert contract.resolve("GET", "/taskmanagement/v2/tenant/1/data").source == "task-management-v2.json"
    assert contract.resolve("GET", "/telecom/v3/tenant/1/calls").source == "telecom.json"


def test_operation_missing_from_new_document_falls_back_to_mar2026(contract: ServiceTitanContract) -> None:
    hold = contract.resolve("PUT", "/jpm/v2/tenant/1/jobs/5/hold")
    assert (hold.operation_id, hold.source) == ("Jobs_Hold", "mar2026/jpm-v2.json")
    # ...but an operation both copies have comes from the new one.
    assert contract.resolve("GET", "/jpm/v2/tenant/1/jobs/5").source == "jpm-v2.json"


def test_unknown_paths_and_methods_are_violations(contract: ServiceTitanContract) -> None:
    with pytest.raises(ContractViolation, match="matches no path template"):
        contract.resolve("GET", "/jpm/v2/tenant/1/jobz")
    with pytest.raises(ContractViolation, match="under no ServiceTitan module"):
        contract.resolve("GET", "/nope/v2/tenant/1/jobs")
    with pytest.raises(ContractViolation, match=r"method POST is not documented .* has GET, PATCH"):
        contract.resolve("POST", "/jpm/v2/tenant/1/jobs/5")
    with pytest.raises(ContractViolation, match="matches no path template"):
        contract.resolve("GET", "/jpm/v2/tenant/1/jobs/")  # an empty segment never fills {id}
    with pytest.raises(ContractViolation, match="under no ServiceTitan module"):
        contract.resolve("GET", "/task-management/v2/tenant/1/data")  # the module is spelled without a hyphen


def test_documents_load_lazily_per_module(openapi_dir: Path) -> None:
    contract = ServiceTitanContract(openapi_dir)
    contract.resolve("GET", "/crm/v2/tenant/1/customers")
    assert contract.loaded_sources == ("crm-v2.json",)
    contract.resolve("GET", "/jpm/v2/tenant/1/jobs/5")
    assert contract.loaded_sources == ("crm-v2.json", "jpm-v2.json")  # no mar2026 copy needed


def test_module_index_agrees_with_every_documents_servers(
    contract: ServiceTitanContract, openapi_dir: Path
) -> None:
    from urllib.parse import urlsplit

    indexed = {name: base for base, names in contract.modules.items() for name in names}
    files = sorted(p.relative_to(openapi_dir).as_posix() for p in openapi_dir.glob("**/*.json"))
    assert sorted(indexed) == files
    for name in files:
        url = json.loads((openapi_dir / name).read_bytes())["servers"][0]["url"]
        assert indexed[name] == urlsplit(url).path.rstrip("/")
    assert contract.modules["/jpm/v2"] == ["jpm-v2.json", "mar2026/jpm-v2.json"]


# ----------------------------------------------------------------------------------------------- requests


def test_valid_job_create_passes(contract: ServiceTitanContract) -> None:
    contract.validate_request(request("POST", "/jpm/v2/tenant/1/jobs", json=job_create_body()))


def test_job_create_without_appointments_names_the_field(contract: ServiceTitanContract) -> None:
    body = job_create_body()
    del body["appointments"]
    with pytest.raises(ContractViolation) as exc:
        contract.validate_request(request("POST", "/jpm/v2/tenant/1/jobs", json=body))
    message = str(exc.value)
    assert "Jobs_Create" in message and "POST /jpm/v2/tenant/{tenant}/jobs" in message
    assert exc.value.problems == ["request body: 'appointments' is a required property"]


def test_request_body_lists_every_problem(contract: ServiceTitanContract) -> None:
    body = job_create_body()
    body["customerId"] = "11"
    body["appointments"][0]["start"] = "2026-05-05 14:00"  # no T, no offset
    body["surprise"] = True
    del body["campaignId"]
    problems = contract.check_request(request("POST", "/jpm/v2/tenant/1/jobs", json=body))
    text = "\n".join(problems)
    assert len(problems) == 4, text
    assert "'campaignId' is a required property" in text
    assert "$.customerId: '11' is not of type 'integer'" in text
    assert "$.appointments[0].start: '2026-05-05 14:00' is not a 'date-time'" in text
    assert "'surprise' was unexpected" in text


def test_query_parameter_of_wrong_type(contract: ServiceTitanContract) -> None:
    with pytest.raises(ContractViolation) as exc:
        contract.validate_request(request("GET", "/crm/v2/tenant/1/customers?page=abc"))
    assert exc.value.operation_id == "Customers_GetList"
    assert exc.value.problems == ["query parameter 'page': 'abc' is not of type 'integer'"]
    contract.validate_request(
        request("GET", "/crm/v2/tenant/1/customers?page=2&pageSize=50&includeTotal=true")
    )


def test_query_enum_format_and_unknown_names(contract: ServiceTitanContract) -> None:
    req = request(
        "GET",
        "/crm/v2/tenant/1/customers",
        params={"active": "Yes", "modifiedOnOrAfter": "2026-01-01", "pagesize": "5", "page": "1"},
    )
    problems = contract.check_request(req)
    assert sorted(problems) == sorted(
        [
            "query parameter 'active': 'Yes' is not one of ['True', 'Any', 'False']",
            "query parameter 'modifiedOnOrAfter': '2026-01-01' is not a 'date-time'",
            "unknown query parameter 'pagesize'"
            " (not declared for Customers_GetList; did you mean 'pageSize'?)",
        ]
    )
    ok = request("GET", "/crm/v2/tenant/1/customers", params={"active": "Any", "modifiedOnOrAfter": NOW})
    assert contract.check_request(ok) == []


def test_query_parameter_repeated_or_too_large(contract: ServiceTitanContract) -> None:
    repeated = request("GET", "/crm/v2/tenant/1/customers", params=[("page", "1"), ("page", "2")])
    assert contract.check_request(repeated) == ["query parameter 'page' given 2 times but is not an array"]
    huge_tenant = request("GET", f"/crm/v2/tenant/{2**63}/customers")
    assert contract.check_request(huge_tenant) == [f"path parameter 'tenant': {2**63} is not a 'int64'"]
    bad_tenant = request("GET", "/crm/v2/tenant/acme/customers")
    assert contract.check_request(bad_tenant) == ["path parameter 'tenant': 'acme' is not of type 'integer'"]


def test_array_query_parameter_items_are_checked(contract: ServiceTitanContract) -> None:
    ok = request("GET", "/telecom/v2/tenant/1/calls", params=[("ids", "1"), ("ids", "2")])
    assert contract.check_request(ok) == []
    bad = request("GET", "/telecom/v2/tenant/1/calls", params=[("ids", "1"), ("ids", "x")])
    assert contract.check_request(bad) == ["query parameter 'ids' $[1]: 'x' is not of type 'integer'"]


def test_required_headers_come_from_security_schemes(contract: ServiceTitanContract) -> None:
    bare = request("GET", "/crm/v2/tenant/1/customers", headers={})
    assert contract.check_request(bare) == [
        "missing header 'ST-App-Key' (security scheme 'apiKeyHeader')",
        "header 'Authorization' must be 'Bearer <access token>' (security scheme 'oauth'; missing)",
    ]
    raw_token = request(
        "GET", "/crm/v2/tenant/1/customers", headers={"ST-App-Key": "ak1", "Authorization": "tok"}
    )
    assert len(contract.check_request(raw_token)) == 1
    # Operations only in the Mar-2026 copy still need the bearer token.
    hold = request(
        "PUT",
        "/jpm/v2/tenant/1/jobs/5/hold",
        headers={"ST-App-Key": "ak1"},
        json={"reasonId": 1, "memo": "waiting for parts"},
    )
    assert contract.check_request(hold) == [
        "header 'Authorization' must be 'Bearer <access token>' (security scheme 'oauth'; missing)"
    ]


def test_request_body_presence_type_and_syntax(contract: ServiceTitanContract) -> None:
    assert contract.check_request(request("POST", "/jpm/v2/tenant/1/jobs")) == [
        "request body missing (Jobs_Create expects application/json)"
    ]
    get_with_body = request(
        "GET",
        "/jpm/v2/tenant/1/jobs/5",
        content=b'{"x":1}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert contract.check_request(get_with_body) == ["Jobs_Get takes no request body, got 7 bytes"]
    form = request("PUT", "/jpm/v2/tenant/1/jobs/5/cancel", data={"reasonId": "1", "memo": "x"})
    assert contract.check_request(form) == [
        "request Content-Type 'application/x-www-form-urlencoded' is not documented (application/json)"
    ]
    broken = request(
        "PUT",
        "/jpm/v2/tenant/1/jobs/5/cancel",
        content=b"{",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert contract.check_request(broken)[0].startswith("request body is not valid JSON")


def test_capacity_request(contract: ServiceTitanContract) -> None:
    good = {
        "startsOnOrAfter": NOW,
        "endsOnOrBefore": "2026-05-06T00:00:00Z",
        "businessUnitIds": [3],
        "jobTypeId": 4,
        "skillBasedAvailability": True,
    }
    assert contract.check_request(request("POST", "/dispatch/v2/tenant/1/capacity", json=good)) == []
    bad = {"startsOnOrAfter": NOW, "endsOnOrBefore": "2026-05-06T00:00:00Z", "jobTypeId": None}
    assert contract.check_request(request("POST", "/dispatch/v2/tenant/1/capacity", json=bad)) == [
        "request body: 'skillBasedAvailability' is a required property"
    ]


# ---------------------------------------------------------------------------------------------- responses


def test_valid_paged_customer_list_passes(contract: ServiceTitanContract) -> None:
    req = request("GET", "/crm/v2/tenant/1/customers?page=1")
    contract.validate_response(req, response(req, body=customer_page(3)))


def test_capacity_response_missing_start_utc(contract: ServiceTitanContract) -> None:
    req = request("POST", "/dispatch/v2/tenant/1/capacity", json={})
    slot = availability()
    del slot["startUtc"]
    body = {"timeStamp": NOW, "availabilities": [availability(), slot, {**slot}]}
    with pytest.raises(ContractViolation) as exc:
        contract.validate_response(req, response(req, body=body))
    assert exc.value.operation_id == "Capacity_GetList"
    assert exc.value.problems == [
        "response body (200) $.availabilities[1]: 'startUtc' is a required property"
        " (and 1 more at $.availabilities[*])"
    ]
    assert "response 200 violates" in str(exc.value)
    contract.validate_response(
        req, response(req, body={"timeStamp": NOW, "availabilities": [availability()]})
    )


def test_extra_property_where_additional_properties_false(contract: ServiceTitanContract) -> None:
    req = request("GET", "/crm/v2/tenant/1/customers/1")
    with pytest.raises(ContractViolation) as exc:
        contract.validate_response(req, response(req, body=customer(1, phoneNumber="+15551234567")))
    assert "'phoneNumber' was unexpected" in problems_of(exc)
    nested = customer(1)
    nested["address"]["county"] = "Collin"
    with pytest.raises(ContractViolation, match=r"\$\.address: Additional properties .*'county'"):
        contract.validate_response(req, response(req, body=nested))


def test_response_value_types_formats_and_enums(contract: ServiceTitanContract) -> None:
    req = request("GET", "/crm/v2/tenant/1/customers/1")
    bad = customer("1", type="Household", createdOn="2025-01-02T10:00:00", balance="125.50")
    problems = contract.check_response(req, response(req, body=bad))
    assert sorted(problems) == sorted(
        [
            "response body (200) $.id: '1' is not of type 'integer'",
            "response body (200) $.type: 'Household' is not one of ['Residential', 'Commercial']",
            "response body (200) $.createdOn: '2025-01-02T10:00:00' is not a 'date-time'",
            "response body (200) $.balance: '125.50' is not of type 'number'",
        ]
    )


def test_nullable_fields(contract: ServiceTitanContract) -> None:
    req = request("GET", "/crm/v2/tenant/1/customers/1")
    assert contract.check_response(req, response(req, body=customer(1, creditLimit=None))) == []
    assert contract.check_response(req, response(req, body=customer(1, name=None))) == [
        "response body (200) $.name: None is not of type 'string'"
    ]
    # A nullable `oneOf` ref reports the error inside the object, not "not valid under any of the schemas".
    job_req = request(
        "POST", "/jpm/v2/tenant/1/jobs", json={**job_create_body(), "jobGeneratedLeadSource": None}
    )
    assert contract.check_request(job_req) == []
    bad = request(
        "POST",
        "/jpm/v2/tenant/1/jobs",
        json={**job_create_body(), "jobGeneratedLeadSource": {"jobId": "x", "employeeId": 1}},
    )
    assert contract.check_request(bad) == [
        "request body $.jobGeneratedLeadSource.jobId: 'x' is not of type 'integer', 'null'"
    ]


def test_undocumented_status_and_always_allowed_ones(contract: ServiceTitanContract) -> None:
    req = request("POST", "/jpm/v2/tenant/1/jobs", json=job_create_body())
    assert contract.check_response(req, response(req, 500, body=api_error(500))) == [
        "status 500 is not documented for Jobs_Create (documented: 200, 400)"
    ]
    limited = {"type": "about:blank", "title": "Too many requests, retry in 2 seconds.", "status": 429}
    assert contract.check_response(req, response(req, 429, body=limited, headers={"Retry-After": "2"})) == []
    assert contract.check_response(req, response(req, 401)) == []
    assert contract.check_response(req, response(req, 403, body={"message": "nope"})) == [
        "response body (403) $: ProblemDetails needs a string 'title'"
    ]
    assert contract.check_response(req, response(req, 429, body={"title": "slow", "status": 400})) == [
        "response body (429) $.status: 400 does not equal the HTTP status 429"
    ]


def test_documented_error_bodies_follow_the_api_error_schema(contract: ServiceTitanContract) -> None:
    req = request("GET", "/jpm/v2/tenant/1/jobs/5")
    assert contract.check_response(req, response(req, 404, body=api_error(404))) == []
    partial = api_error(404)
    del partial["traceId"]
    assert contract.check_response(req, response(req, 404, body=partial)) == [
        "response body (404): 'traceId' is a required property"
    ]


def test_bodiless_responses(contract: ServiceTitanContract) -> None:
    cancel = request("PUT", "/jpm/v2/tenant/1/jobs/5/cancel", json={"reasonId": 1, "memo": "customer called"})
    assert contract.check_request(cancel) == []
    assert contract.check_response(cancel, response(cancel)) == []
    assert contract.check_response(cancel, response(cancel, body={"ok": True})) == [
        "status 200 documents no response body, got 11 bytes (application/json)"
    ]
    get = request("GET", "/jpm/v2/tenant/1/jobs/5")
    assert contract.check_response(get, response(get)) == [
        "response body missing (status 200 documents application/json)"
    ]
    text = response(get, content=b"hello", headers={"Content-Type": "text/plain"})
    assert contract.check_response(get, text) == [
        "response Content-Type 'text/plain' is not documented for 200 (application/json)"
    ]


def test_mar2026_operation_body_is_validated(contract: ServiceTitanContract) -> None:
    ok = request("PUT", "/jpm/v2/tenant/1/jobs/5/hold", json={"reasonId": 1, "memo": "parts"})
    assert contract.check_request(ok) == []
    bad = request("PUT", "/jpm/v2/tenant/1/jobs/5/hold", json={"reasonId": 1})
    with pytest.raises(ContractViolation) as exc:
        contract.validate_request(bad)
    assert (exc.value.operation_id, exc.value.problems) == (
        "Jobs_Hold",
        ["request body: 'memo' is a required property"],
    )


def test_violation_message_names_operation_method_and_path(contract: ServiceTitanContract) -> None:
    req = request("GET", "/jpm/v2/tenant/1/jobs/5?bogus=1")
    with pytest.raises(ContractViolation) as exc:
        contract.validate_request(req)
    first_line = str(exc.value).splitlines()[0]
    assert first_line == (
        "Jobs_Get — GET /jpm/v2/tenant/{tenant}/jobs/{id} (called as /jpm/v2/tenant/1/jobs/5): "
        "request violates the ServiceTitan OpenAPI contract:"
    )
    assert isinstance(exc.value, AssertionError)


# ------------------------------------------------------------------------------------------------- tokens


def token_request(**form: str) -> httpx.Request:
    fields = {"grant_type": "client_credentials", "client_id": "cid.x", "client_secret": "cs1.y", **form}
    return httpx.Request(
        "POST",
        "https://auth.servicetitan.io/connect/token",
        data={k: v for k, v in fields.items() if v is not None},
    )


def test_token_request_checks() -> None:
    assert check_token_request(token_request()) == []
    # authlib's default (client_secret_basic) puts the credentials in an Authorization header instead.
    basic = httpx.Request(
        "POST", "https://auth.servicetitan.io/connect/token", data={"grant_type": "client_credentials"}
    )
    basic = next(httpx.BasicAuth("cid.x", "cs1.y").auth_flow(basic))
    assert check_token_request(basic) == [
        "form field client_id missing (ServiceTitan reads the credentials from the form body)",
        "form field client_secret missing (ServiceTitan reads the credentials from the form body)",
    ]
    as_json = httpx.Request(
        "POST",
        "https://auth.servicetitan.io/connect/token",
        json={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
    )
    assert "Content-Type must be application/x-www-form-urlencoded" in check_token_request(as_json)[0]
    assert check_token_request(token_request(grant_type="password")) == [
        "form field grant_type must be 'client_credentials', got ['password']"
    ]


def test_token_response_checks() -> None:
    req = token_request()
    good = {"access_token": "eyJ...", "expires_in": 900, "token_type": "Bearer", "scope": "tn.jpm.jobs:r"}
    assert check_token_response(response(req, body=good)) == []
    assert check_token_response(response(req, body={"access_token": "x", "token_type": "Bearer"})) == [
        "token response $.expires_in: must be a positive integer (seconds), got None"
    ]
    assert check_token_response(response(req, 401, body={"error": "invalid_client"})) == []
    assert check_token_response(response(req, 500)) == [
        "token endpoint answered 500; expected 200, or 400/401 (OAuth error) or 429"
    ]


def test_contract_routes_token_requests_to_the_token_checks(contract: ServiceTitanContract) -> None:
    with pytest.raises(ContractViolation, match="OAuth2_Token"):
        contract.validate_request(token_request(client_secret=""))
    contract.validate_response(
        token_request(),
        response(token_request(), body={"access_token": "a", "expires_in": 900, "token_type": "Bearer"}),
    )


# ---------------------------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("fmt", "value", "ok"),
    [
        ("date-time", "2026-05-04T15:00:00Z", True),
        ("date-time", "2026-05-04T15:00:00.1234567Z", True),
        ("date-time", "2026-05-04T10:00:00-05:00", True),
        ("date-time", "2026-05-04T15:00:00", False),
        ("date-time", "2026-02-30T15:00:00Z", False),
        ("date-time", "May 4 2026", False),
        ("date", "2026-05-04", True),
        ("date", "2026-13-04", False),
        ("int32", 2**31 - 1, True),
        ("int32", 2**31, False),
        ("int64", -(2**63), True),
        ("int64", 2**63, False),
        ("guid", str(uuid.uuid4()), True),
        ("guid", "not-a-guid", False),
        ("decimal", "12.50", True),  # an annotation: the type says whether money is a number or a string
    ],
)
def test_format_checker(fmt: str, value: Any, ok: bool) -> None:
    assert FORMAT_CHECKER.conforms(value, fmt) is ok


# -------------------------------------------------------------------------------------------- transport


def _demo_app(bad_response: bool = False) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    calls: list[str] = []

    async def customers(request: Request) -> Response:
        calls.append(request.url.path)
        body = customer_page(2)
        if bad_response:
            del body["data"][1]["name"]
        return JSONResponse(body)

    async def cancel(request: Request) -> Response:
        calls.append(request.url.path)
        return Response(status_code=200)

    app = Starlette(
        routes=[
            Route("/crm/v2/tenant/{tenant}/customers", customers),
            Route("/jpm/v2/tenant/{tenant}/jobs/{id}/cancel", cancel, methods=["PUT"]),
        ]
    )
    app.state.calls = calls
    return app


@pytest.mark.anyio
async def test_transport_records_and_keeps_the_body_readable(contract: ServiceTitanContract) -> None:
    transport = ContractRecordingTransport(httpx.ASGITransport(app=_demo_app()), contract, strict=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=AUTH) as client:
        page = await client.get("/crm/v2/tenant/1/customers", params={"page": 1})
        assert page.json()["data"][1]["id"] == 2
        cancelled = await client.put("/jpm/v2/tenant/1/jobs/9/cancel", json={"reasonId": 1, "memo": "dup"})
        assert cancelled.status_code == 200
    assert [e.response.status_code for e in transport.exchanges if e.response] == [200, 200]
    assert (
        transport.exchanges[0].response is not None and transport.exchanges[0].response.json() == page.json()
    )
    assert transport.violations == []
    transport.assert_no_violations()


@pytest.mark.anyio
async def test_strict_transport_raises_on_bad_response(contract: ServiceTitanContract) -> None:
    transport = ContractRecordingTransport(
        httpx.ASGITransport(app=_demo_app(bad_response=True)), contract, strict=True
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=AUTH) as client:
        with pytest.raises(ContractViolation, match=r"\$\.data\[1\]: 'name' is a required property"):
            await client.get("/crm/v2/tenant/1/customers")


@pytest.mark.anyio
async def test_strict_transport_rejects_bad_request_before_forwarding(contract: ServiceTitanContract) -> None:
    app = _demo_app()
    transport = ContractRecordingTransport(httpx.ASGITransport(app=app), contract, strict=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=AUTH) as client:
        with pytest.raises(ContractViolation, match="'memo' is a required property"):
            await client.put("/jpm/v2/tenant/1/jobs/9/cancel", json={"reasonId": 1})
    assert app.state.calls == []
    assert transport.exchanges[0].response is None


@pytest.mark.anyio
async def test_lenient_transport_collects_violations(contract: ServiceTitanContract) -> None:
    transport = ContractRecordingTransport(httpx.ASGITransport(app=_demo_app(bad_response=True)), contract)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        await client.get("/crm/v2/tenant/1/customers", params={"page": "x"})
    exchange = transport.exchanges[0]
    assert exchange.request_violation is not None and exchange.response_violation is not None
    assert len(exchange.request_violation.problems) == 3  # two headers and the page
    with pytest.raises(ContractViolation, match="2 contract violation"):
        transport.assert_no_violations()


@pytest.mark.anyio
async def test_transport_can_record_without_validating() -> None:
    transport = ContractRecordingTransport(
        httpx.ASGITransport(app=_demo_app(bad_response=True)), validate=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        await client.get("/crm/v2/tenant/1/customers", params={"page": "x"})
    assert transport.contract is None and len(transport.exchanges) == 1 and transport.violations == []


@pytest.mark.anyio
async def test_transport_over_respx_mocked_http_transport_with_gzip(contract: ServiceTitanContract) -> None:
    payload = json.dumps(customer_page(2)).encode()
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        mock.get("/crm/v2/tenant/1/customers").respond(
            200,
            content=gzip.compress(payload),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        mock.post("https://auth.servicetitan.io/connect/token").respond(
            200, json={"access_token": "abc", "expires_in": 900, "token_type": "Bearer"}
        )
        transport = ContractRecordingTransport(httpx.AsyncHTTPTransport(), contract, strict=True)
        async with httpx.AsyncClient(transport=transport) as client:
            token = await client.post(
                "https://auth.servicetitan.io/connect/token",
                data={"grant_type": "client_credentials", "client_id": "cid", "client_secret": "cs"},
            )
            assert token.json()["expires_in"] == 900
            page = await client.get(f"{BASE}/crm/v2/tenant/1/customers", headers=AUTH)
            assert page.json() == json.loads(payload)
    assert len(transport.exchanges) == 2 and transport.violations == []


# ------------------------------------------------------------------------- fast path agrees with jsonschema

MODULES = (
    "crm-v2.json",
    "jpm-v2.json",
    "dispatch-v2.json",
    "settings-v2.json",
    "marketing-v2.json",
    "memberships-v2.json",
    "task-management-v2.json",
    "accounting-v2.json",
    "telecom.json",
    "mar2026/jpm-v2.json",
    "mar2026/dispatch-v2.json",
)


def _sample(schema: Any, doc: dict[str, Any], depth: int = 0, full: bool = True) -> Any:
    """A (usually) valid instance of `schema`: required properties, plus optional ones when `full`."""
    if not isinstance(schema, dict) or depth > 6:
        return None
    if "$ref" in schema:
        target: Any = doc
        for part in schema["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return _sample(target, doc, depth + 1, full)
    for key in ("allOf", "anyOf", "oneOf"):
        branches = [b for b in schema.get(key, ()) if b != {"type": "null"}]
        if branches:
            return _sample(branches[0], doc, depth + 1, full)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    fmt = schema.get("format")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        names = list(props) if full else list(schema.get("required", ()))
        return {n: _sample(props.get(n, {}), doc, depth + 1, full) for n in names}
    return {
        "array": lambda: [_sample(schema.get("items", {}), doc, depth + 1, full)],
        "integer": lambda: 7,
        "number": lambda: 2.5,
        "boolean": lambda: True,
        "null": lambda: None,
        "string": lambda: {
            "date-time": NOW,
            "date": "2026-05-04",
            "guid": str(uuid.UUID(int=7)),
            "uuid": str(uuid.UUID(int=7)),
            "email": "a@b.co",
        }.get(fmt, "text"),
    }.get(kind, lambda: None)()


def _mutations(instance: Any) -> Iterator[Any]:
    """The instance itself and variants that break one thing at the top level or one level down."""
    yield instance
    if isinstance(instance, dict):
        yield {**instance, "unexpected_extra": 1}
        for key in list(instance)[:8]:
            yield {k: v for k, v in instance.items() if k != key}
            for wrong in (None, "str", 3, 1.5, True, [], {}):
                yield {**instance, key: wrong}
            inner = instance[key]
            if isinstance(inner, dict) and inner:
                first = next(iter(inner))
                yield {**instance, key: {**inner, first: "wrong"}}
            if isinstance(inner, list) and inner:
                yield {**instance, key: [*inner, "wrong"]}
    yield None
    yield "text"
    yield []


def _schema_pointers(doc: dict[str, Any]) -> Iterator[str]:
    for name in doc.get("components", {}).get("schemas", {}):
        yield "/components/schemas/" + name.replace("~", "~0").replace("/", "~1")


@pytest.mark.parametrize("source", MODULES)
def test_fast_path_agrees_with_jsonschema(contract: ServiceTitanContract, source: str) -> None:
    document = contract.document(source)
    checked = valid = 0
    for pointer in _schema_pointers(document.data):
        validator = contract.schema_validator(source, pointer)
        assert validator.has_fast_path, f"{source}{pointer} fell back to jsonschema only"
        schema = document.resolve_pointer(pointer)
        for full in (True, False):
            for instance in _mutations(_sample(schema, document.data, full=full)):
                expected = validator.is_valid(instance)
                assert validator.is_valid_fast(instance) is expected, f"{source}{pointer}: {instance!r}"
                checked += 1
                valid += expected
    assert checked > 100 and 0 < valid < checked  # both verdicts really occurred


@pytest.mark.parametrize("source", MODULES)
def test_fast_path_agrees_on_documented_examples(contract: ServiceTitanContract, source: str) -> None:
    """The documents' own examples (mostly invalid: dates written as "string") exercise the error side."""
    document = contract.document(source)
    for path_key, item in document.data["paths"].items():
        for method, op in item.items():
            op_pointer = "/paths/" + path_key.replace("~", "~0").replace("/", "~1") + "/" + method
            holders = [("requestBody", op.get("requestBody", {}))]
            holders += [(f"responses/{status}", spec) for status, spec in op.get("responses", {}).items()]
            for where, holder in holders:
                media = holder.get("content", {}).get("application/json", {})
                if "schema" not in media or "example" not in media:
                    continue
                validator = contract.schema_validator(
                    source, f"{op_pointer}/{where}/content/application~1json/schema"
                )
                example = copy.deepcopy(media["example"])
                assert validator.is_valid_fast(example) is validator.is_valid(example), (
                    f"{op['operationId']} {where}"
                )


def test_fast_and_full_modes_report_the_same_problems(openapi_dir: Path) -> None:
    fast, full = ServiceTitanContract(openapi_dir), ServiceTitanContract(openapi_dir, fast=False)
    req = request("POST", "/dispatch/v2/tenant/1/capacity", json={})
    slot = availability(openAvailability="2")
    del slot["endUtc"]
    for body in (
        {"timeStamp": NOW, "availabilities": [availability()]},
        {"timeStamp": "now", "availabilities": [slot, availability(), slot]},
    ):
        resp = response(req, body=body)
        assert fast.check_response(req, resp) == full.check_response(req, resp)


# ------------------------------------------------------------------------------------------- the fixture


def test_missing_documents_skip_locally_and_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ST_OPENAPI_DIR", str(tmp_path / "absent"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(
        pytest.skip.Exception, match=re.escape(f"not found at {tmp_path / 'absent'}; set ST_OPENAPI_DIR")
    ):
        find_openapi_dir()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="ServiceTitan OpenAPI documents not found"):
        find_openapi_dir()
