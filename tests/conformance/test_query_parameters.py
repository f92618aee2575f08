"""Every documented query parameter of every operation the sandbox serves is honoured or refused (400 naming
it), never silently ignored: a test that filters by it must not pass against unfiltered data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from st_mcp.sandbox import SANDBOX_TENANT_ID, SandboxClock, SandboxConfig, SandboxTenant, create_sandbox_app
from st_mcp.sandbox.routes import ENDPOINTS
from st_mcp.sandbox.routing import Endpoint

from .fuzz import DOCUMENTS, NOW, VERSIONED_DOCUMENTS

pytestmark = pytest.mark.anyio

# The path segment before {id} → the tenant collection that holds a real id for it.
COLLECTIONS = {
    "jobs": "jobs", "appointments": "appointments", "customers": "customers", "leads": "leads",
    "locations": "locations", "tasks": "tasks", "campaigns": "campaigns", "job-types": "job_types",
    "technicians": "technicians", "business-units": "business_units", "memberships": "memberships",
    "membership-types": "membership_types", "recurring-service-events": "recurring_service_events",
    "estimates": "estimates", "bookings": "bookings",
}  # fmt: skip
SAMPLE_TIME = "2026-03-01T00:00:00Z"
# Operations that refuse to list without some filter: that filter is sent along with each parameter.
CONTEXT = {("GET", "/crm/v2/tenant/{tenant}/customers/contacts"): {"modifiedOnOrAfter": SAMPLE_TIME}}


def documented_query_parameters(openapi_dir: Path) -> Iterator[tuple[Endpoint, dict[str, Any], list[Any]]]:
    """(endpoint, the parameter, every query parameter of the operation) for each served operation."""
    documents = {module: json.loads((openapi_dir / name).read_bytes()) for module, name in DOCUMENTS.items()}
    prefixes = {module: "" for module in documents}
    for module, (name, prefix) in VERSIONED_DOCUMENTS.items():
        documents[module], prefixes[module] = json.loads((openapi_dir / name).read_bytes()), prefix
    for endpoint in ENDPOINTS:
        module = "/" + "/".join(endpoint.path.split("/")[1:3])
        path = prefixes[module] + endpoint.path.removeprefix(module)
        item = documents[module]["paths"][path]
        operation = item[endpoint.method.lower()]
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        query = [p for p in parameters if p.get("in") == "query"]
        for parameter in query:
            yield endpoint, parameter, query


def sample(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    schema = next(
        (s for s in schema.get("oneOf", schema.get("anyOf", [])) if s.get("type") != "null"), schema
    )
    if "enum" in schema:
        return str(schema["enum"][0])
    kind, form = schema.get("type"), schema.get("format")
    if kind == "array":
        return sample({"schema": schema.get("items", {})})
    if kind == "integer":
        return "1"
    if kind == "number":
        return "1.5"
    if kind == "boolean":
        return "true"
    if form == "date-time":
        return SAMPLE_TIME
    if form == "uuid":
        return "5b0f3c2e-7a61-4d8e-9f14-2c6b8d0e1a37"
    return "1"  # strings: many are id lists or numbers in disguise; "1" is valid for most


def concrete_path(endpoint: Endpoint, tenant: SandboxTenant) -> str:
    path = endpoint.path.replace("{tenant}", str(SANDBOX_TENANT_ID))
    path = path.replace("{booking_provider}", str(next(iter(tenant.booking_providers))))
    found = re.search(r"/([a-z-]+)/\{id\}", path)
    if found:
        records = getattr(tenant, COLLECTIONS[found.group(1)])
        path = path.replace("{id}", str(next(iter(records))))
    return path


@pytest.fixture(scope="module")
def cases(openapi_dir: Path) -> list[tuple[Endpoint, dict[str, Any], list[Any]]]:
    return list(documented_query_parameters(openapi_dir))


async def test_every_documented_query_parameter_is_honoured_or_refused(
    cases: list[tuple[Endpoint, dict[str, Any], list[Any]]],
) -> None:
    app = create_sandbox_app(SandboxConfig(clock=SandboxClock(NOW), rate_limit_per_second=1_000_000))
    tenant: SandboxTenant = app.state.sandbox
    ignored: list[str] = []
    wrongly_refused: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        form = {"grant_type": "client_credentials", "client_id": "q", "client_secret": "q"}
        token = (await http.post("/connect/token", data=form)).json()["access_token"]
        http.headers.update({"Authorization": f"Bearer {token}", "ST-App-Key": "ak1.params"})
        for endpoint, parameter, query in cases:
            name = parameter["name"]
            params = {p["name"]: sample(p) for p in query if p.get("required")}
            params |= CONTEXT.get((endpoint.method, endpoint.path), {}) | {name: sample(parameter)}
            tenant.params_read.clear()
            response = await http.request(
                endpoint.method, concrete_path(endpoint, tenant), params=params, json={}
            )
            label = f"{endpoint.method} {endpoint.path} ?{name}"
            errors = response.json().get("errors", {}) if response.status_code == 400 else {}
            if name in endpoint.refuses:
                if name not in errors:
                    wrongly_refused.append(f"{label}: listed as refused but answered {response.status_code}")
                continue
            if name not in tenant.params_read.get((endpoint.method, endpoint.path), set()):
                ignored.append(f"{label} (answered {response.status_code})")
    assert ignored == [], "documented, neither honoured nor refused:\n" + "\n".join(ignored)
    assert wrongly_refused == []
    assert len(cases) > 300  # the documents were walked, not an empty folder


def test_refused_parameters_are_documented(cases: list[tuple[Endpoint, dict[str, Any], list[Any]]]) -> None:
    """A refusal names a real parameter of its operation (a typo would refuse nothing)."""
    documented = {(e.method, e.path, p["name"]) for e, p, _ in cases}
    refused = {(e.method, e.path, name) for e in ENDPOINTS for name in e.refuses}
    assert refused - documented == set()
