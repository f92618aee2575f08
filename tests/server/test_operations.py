"""/healthz, /readyz and /metrics on the HTTP and SSE apps, in process (httpx.ASGITransport), and the
readiness cache."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from st_mcp.config import Settings, load_settings
from st_mcp.server import create_server
from st_mcp.server.auth import hash_key
from st_mcp.server.context import AppContext
from st_mcp.server.operations import Readiness
from st_mcp.server.shared import SharedAppContext

pytestmark = pytest.mark.anyio

OPERATOR_KEY = "operator-key-0123456789abcdef"


def _settings(folder: Path, database_url: str | None = None, *, auth: bool = False) -> Settings:
    config = folder / "st-mcp.toml"
    config.write_text(
        f'[[auth.api_keys]]\nprincipal = "ops"\nrole = "auditor"\nsha256 = "{hash_key(OPERATOR_KEY)}"\n'
        if auth
        else "",
        encoding="utf-8",
    )
    url = database_url or f"sqlite+aiosqlite:///{folder / 'st.db'}"
    return load_settings(config, environ={"ST_MCP_DATABASE_URL": url})


@contextlib.asynccontextmanager
async def _http(settings: Settings, app_kind: str = "http") -> AsyncIterator[httpx.AsyncClient]:
    server = create_server(settings)
    app = server.sse_app() if app_kind == "sse" else server.streamable_http_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http


@pytest.mark.parametrize("app_kind", ["http", "sse"])
async def test_health_ready_and_metrics_answer(tmp_path: Path, app_kind: str) -> None:
    async with _http(_settings(tmp_path), app_kind) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "checks": {"store": "ok", "servicetitan": "ok"}}
        scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(scraped.text)}
    assert {"st_mcp_tool_calls", "st_mcp_upstream_requests", "st_mcp_token_fetches"} <= names


async def test_unready_when_the_store_is_unreachable(tmp_path: Path) -> None:
    # A PostgreSQL server that is not there (nothing listens on loopback port 9): connection refused.
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/postgres"
    async with _http(_settings(tmp_path, unreachable)) as http:
        ready = await http.get("/readyz")
        health = await http.get("/healthz")
    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["status"] == "unready"
    assert body["checks"]["store"] not in ("ok", "") and "127.0.0.1" not in ready.text
    assert health.status_code == 200  # alive all the same: a restart would not bring the database back


async def test_metrics_want_the_mcp_bearer_token_when_auth_is_configured(tmp_path: Path) -> None:
    async with _http(_settings(tmp_path, auth=True)) as http:
        anonymous = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer not-a-key-of-ours-at-all"})
        allowed = await http.get("/metrics", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})
        probe = await http.get("/healthz")
    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert allowed.status_code == 200 and "st_mcp_tool_calls" in allowed.text
    assert OPERATOR_KEY not in allowed.text
    assert probe.status_code == 200  # probes carry no token


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_readiness_is_checked_at_most_once_per_ttl() -> None:
    opened: list[int] = []

    @contextlib.asynccontextmanager
    async def failing_store() -> AsyncIterator[AppContext]:
        opened.append(1)
        raise OSError("connection refused")
        yield  # pragma: no cover

    clock = FakeClock()
    readiness = Readiness(SharedAppContext(failing_store), ttl=5.0, clock=clock)
    first = await readiness.verdict()
    again = await readiness.verdict()
    assert not first.ready and again is first and len(opened) == 1
    assert first.checks["store"] == "OSError"  # the class only: the message stays in the log
    clock.now += 5.0
    assert not (await readiness.verdict()).ready
    assert len(opened) == 2


async def test_unready_when_no_servicetitan_token_can_be_had(tmp_path: Path) -> None:
    config = tmp_path / "st-mcp.toml"
    config.write_text("", encoding="utf-8")
    environ = {
        "ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'st.db'}",
        "ST_TENANT_ID": "4417001",
        "ST_CLIENT_ID": "cid.example",
        "ST_CLIENT_SECRET": "cs1.not-for-logs-or-probes",
        "ST_APP_KEY": "ak1.example",
        "ST_ENVIRONMENT": "integration",
        # Nothing listens on loopback port 9: the token endpoint cannot be reached.
        "ST_AUTH_URL": "http://127.0.0.1:9/connect/token",
        "ST_API_BASE_URL": "http://127.0.0.1:9",
    }
    async with _http(load_settings(config, environ=environ)) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"] == {"store": "ok", "servicetitan": "TokenUnavailableError"}
    assert "not-for-logs" not in ready.text
