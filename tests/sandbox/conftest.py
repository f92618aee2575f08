"""Fixtures: a sandbox app on a fixed clock (Monday 2026-03-09, 09:00 in Denver), driven in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from st_mcp.sandbox import SANDBOX_TENANT_ID, SandboxClock, SandboxConfig, SandboxTenant, create_sandbox_app

MONDAY_9AM = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 09:00 MDT (DST began 2026-03-08)
APP_KEY = "ak1.sandbox-tests"


def api_path(module: str, rest: str, tenant: int = SANDBOX_TENANT_ID) -> str:
    return f"/{module}/v2/tenant/{tenant}/{rest}"


async def fetch_token(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": "cid.tests",
        "client_secret": "cs1.tests",
        **form,
    }
    return await http.post("/connect/token", data=data)


async def auth_headers(http: httpx.AsyncClient, app_key: str = APP_KEY) -> dict[str, str]:
    response = await fetch_token(http)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", "ST-App-Key": app_key}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """A ProblemDetails body with all six keys and the right status."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert set(body) == {"type", "title", "status", "traceId", "errors", "data"}
    assert body["status"] == status
    assert isinstance(body["errors"], dict) and isinstance(body["data"], dict)
    return body


def errors_of(response: httpx.Response, status: int) -> dict[str, list[str]]:
    """The field errors of a ProblemDetails response."""
    return problem(response, status)["errors"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(MONDAY_9AM)


@pytest.fixture
def config(clock: SandboxClock) -> SandboxConfig:
    return SandboxConfig(clock=clock)


@pytest.fixture
def app(config: SandboxConfig):  # -> Starlette
    return create_sandbox_app(config)


@pytest.fixture
def tenant(app) -> SandboxTenant:
    return app.state.sandbox


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        yield client


@pytest.fixture
async def api(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """The same client, authenticated (token + app key) for every call."""
    http.headers.update(await auth_headers(http))
    return http
