"""Rate limiting (60/s per app key and tenant), latency, and fault injection."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest

from st_mcp.sandbox import SandboxClock, SandboxConfig, SandboxTenant, create_sandbox_app

from .conftest import api_path, auth_headers, fetch_token, problem

pytestmark = pytest.mark.anyio

BUSINESS_HOURS = api_path("dispatch", "business-hours")


async def test_61st_request_within_a_second_is_429(http: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    now = [1000.0]
    tenant.rate_limiter.now = lambda: now[0]  # a frozen second: exactly what "within a second" means
    headers = await auth_headers(http)
    for _ in range(60):
        assert (await http.get(BUSINESS_HOURS, headers=headers)).status_code == 200
    limited = await http.get(BUSINESS_HOURS, headers=headers)
    body = problem(limited, 429)
    assert limited.headers["Retry-After"] == "1"
    assert body["title"] == "Too many requests. Please try again in 1 seconds."

    # The token endpoint is outside the bucket, and another app key has its own bucket.
    assert (await fetch_token(http)).status_code == 200
    other = dict(headers, **{"ST-App-Key": "ak1.another-app"})
    assert (await http.get(BUSINESS_HOURS, headers=other)).status_code == 200

    now[0] += 1.0  # the window slides on
    assert (await http.get(BUSINESS_HOURS, headers=headers)).status_code == 200


async def test_rate_limit_is_configurable(clock: SandboxClock) -> None:
    app = create_sandbox_app(SandboxConfig(clock=clock, rate_limit_per_second=3))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        app.state.sandbox.rate_limiter.now = lambda: 5.0
        headers = await auth_headers(http)
        statuses = [(await http.get(BUSINESS_HOURS, headers=headers)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]


async def test_fault_injection_fails_the_next_matching_requests(
    api: httpx.AsyncClient, tenant: SandboxTenant
) -> None:
    fault = tenant.faults.add("GET", r"/crm/v2/tenant/\d+/customers$", 503, times=2)
    problem(await api.get(api_path("crm", "customers")), 503)
    assert (await api.get(api_path("crm", "leads"))).status_code == 200  # other paths unaffected
    problem(await api.get(api_path("crm", "customers")), 503)
    assert (await api.get(api_path("crm", "customers"))).status_code == 200
    assert fault.hits == 2 and tenant.faults.pending == 0
    assert tenant.request_log.count(("GET", api_path("crm", "customers"))) == 3


async def test_injected_429_carries_retry_after(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    tenant.faults.add("*", r"/jobs", 429, retry_after=7)
    response = await api.get(api_path("jpm", "jobs"))
    assert problem(response, 429)["title"] == "Too many requests. Please try again in 7 seconds."
    assert response.headers["Retry-After"] == "7"


async def test_delay_fault_simulates_a_timeout(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    tenant.faults.add("GET", r"/business-hours$", status=0, delay_seconds=0.5)
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.1):
            await api.get(BUSINESS_HOURS)
    tenant.faults.add("GET", r"/business-hours$", status=0, delay_seconds=0.1)
    started = time.monotonic()
    assert (await api.get(BUSINESS_HOURS)).status_code == 200  # slow, then served
    assert time.monotonic() - started >= 0.1


async def test_latency_knob(clock: SandboxClock) -> None:
    app = create_sandbox_app(SandboxConfig(clock=clock, latency_seconds=0.05))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        started = time.monotonic()
        await fetch_token(http)
        assert time.monotonic() - started >= 0.05
