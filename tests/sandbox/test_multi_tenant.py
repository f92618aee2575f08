"""One sandbox process serving several seeded tenants (``st-mcp sandbox --tenant 3101 --tenant 3102:11``):
each answers its own data, a token is bound to the tenant its client id names, rate limits, faults, admin
routes and state files are per tenant; and st-mcp with two tenant blocks on one such sandbox reaches each
tenant's own data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from st_mcp.cli import main
from st_mcp.config import SANDBOX_CLIENT_ID, load_settings
from st_mcp.sandbox import SANDBOX_TENANT_ID, SandboxClock, SandboxConfig, SandboxTenant, create_sandbox_app
from st_mcp.sandbox.config import SANDBOX_CLIENT_ID as SANDBOX_SIDE_CLIENT_ID
from st_mcp.sandbox.config import tenant_state_path
from st_mcp.sandbox.multi import MultiTenantSandbox, create_multi_sandbox_app
from st_mcp.server.context import open_app_context
from st_mcp.upstream import connect_servicetitan

from .conftest import APP_KEY, MONDAY_9AM, api_path, problem
from .test_jobs import job_body

pytestmark = pytest.mark.anyio

A, B = 3101, 3102
SEEDS = {A: 7, B: 11}


def multi_app(state: Path | None = None, **knobs: Any) -> MultiTenantSandbox:
    return create_multi_sandbox_app(
        [
            SandboxConfig(
                tenant_id=tenant_id,
                seed=seed,
                clock=SandboxClock(MONDAY_9AM),
                state=tenant_state_path(state, tenant_id) if state else None,
                **knobs,
            )
            for tenant_id, seed in SEEDS.items()
        ]
    )


@pytest.fixture
def app() -> MultiTenantSandbox:
    return multi_app()


@pytest.fixture
async def http(app: MultiTenantSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        yield client


async def token(http: httpx.AsyncClient, client_id: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "s"}
    return await http.post("/connect/token", data=form)


async def headers_for(http: httpx.AsyncClient, tenant_id: int) -> dict[str, str]:
    response = await token(http, f"sandbox-client-{tenant_id}")
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", "ST-App-Key": APP_KEY}


def tenants(app: MultiTenantSandbox) -> dict[int, SandboxTenant]:
    return app.state.sandboxes  # type: ignore[no-any-return]


async def customer_names(http: httpx.AsyncClient, tenant_id: int) -> set[str]:
    headers = await headers_for(http, tenant_id)
    response = await http.get(
        api_path("crm", "customers", tenant_id), params={"pageSize": 500}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {row["name"] for row in response.json()["data"]}


async def test_each_tenant_answers_its_own_seeded_data(
    http: httpx.AsyncClient, app: MultiTenantSandbox
) -> None:
    names = {tenant_id: await customer_names(http, tenant_id) for tenant_id in SEEDS}
    for tenant_id, tenant in tenants(app).items():
        assert tenant.seed == SEEDS[tenant_id] and tenant.tenant_id == tenant_id
        assert names[tenant_id] == {c.name for c in tenant.customers.values()}
    assert names[A] != names[B]  # seeds 7 and 11 make different customers
    # Each request reached its own tenant's app only.
    assert all(f"/tenant/{A}/" in path for _, path in tenants(app)[A].request_log if "/tenant/" in path)
    assert all(f"/tenant/{B}/" in path for _, path in tenants(app)[B].request_log if "/tenant/" in path)


async def test_a_token_is_bound_to_the_tenant_its_client_id_names(http: httpx.AsyncClient) -> None:
    for tenant_id in SEEDS:
        response = await token(http, f"sandbox-client-{tenant_id}")
        assert response.status_code == 200, response.text
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        assert claims["tenant"] == str(tenant_id)
    # The plain client id is the default tenant's: 4417001 is not served here, so the first one.
    plain = await token(http, SANDBOX_CLIENT_ID)
    assert jwt.decode(plain.json()["access_token"], options={"verify_signature": False})["tenant"] == str(A)
    # A client id naming a tenant this sandbox does not serve gets no token at all.
    refused = await token(http, "sandbox-client-999")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"


async def test_a_token_of_one_tenant_is_refused_on_the_other(http: httpx.AsyncClient) -> None:
    a_headers = await headers_for(http, A)
    assert (await http.get(api_path("crm", "customers", A), headers=a_headers)).status_code == 200
    body = problem(await http.get(api_path("crm", "customers", B), headers=a_headers), 403)
    assert body["title"] == f"Access to tenant {B} is denied for this application."
    b_headers = await headers_for(http, B)
    problem(await http.get(api_path("crm", "customers", A), headers=b_headers), 403)


async def test_a_tenant_not_served_is_refused_with_problem_details(http: httpx.AsyncClient) -> None:
    headers = await headers_for(http, A)
    body = problem(await http.get(api_path("crm", "customers", 999), headers=headers), 403)
    assert body["title"] == "Access to tenant 999 is denied for this application."
    problem(await http.get(api_path("crm", "customers", 999), headers={"ST-App-Key": APP_KEY}), 401)
    problem(await http.get("/_sandbox/faults", params={"tenant": 999}), 404)


async def test_the_rate_limit_is_per_tenant(http: httpx.AsyncClient) -> None:
    app = multi_app(rate_limit_per_second=2)
    for tenant in tenants(app).values():
        tenant.rate_limiter.now = lambda: 0.0  # pinned: the window never slides during the test
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        a_headers, b_headers = await headers_for(http, A), await headers_for(http, B)
        for _ in range(2):
            assert (await http.get(api_path("crm", "customers", A), headers=a_headers)).status_code == 200
        problem(await http.get(api_path("crm", "customers", A), headers=a_headers), 429)
        # The same app key on the other tenant still has its whole allowance.
        for _ in range(2):
            assert (await http.get(api_path("crm", "customers", B), headers=b_headers)).status_code == 200
        problem(await http.get(api_path("crm", "customers", B), headers=b_headers), 429)


async def test_admin_routes_address_one_tenant(http: httpx.AsyncClient, app: MultiTenantSandbox) -> None:
    rule = {"status": 503, "path": r"/customers$", "times": 1}
    armed = await http.post("/_sandbox/faults", params={"tenant": B}, content=json.dumps(rule))
    assert armed.status_code == 201, armed.text
    assert tenants(app)[B].faults.faults and not tenants(app)[A].faults.faults
    a_headers, b_headers = await headers_for(http, A), await headers_for(http, B)
    assert (await http.get(api_path("crm", "customers", A), headers=a_headers)).status_code == 200
    problem(await http.get(api_path("crm", "customers", B), headers=b_headers), 503)
    # Without ?tenant the default tenant's knobs answer, as on a single-tenant sandbox.
    listed = await http.get("/_sandbox/faults")
    assert listed.json() == {"faults": []}

    job = await http.post(api_path("jpm", "jobs", B), json=job_body(tenants(app)[B]), headers=b_headers)
    assert job.status_code == 200, job.text
    job_id = job.json()["id"]
    moved = await http.post(
        f"/_sandbox/jobs/{job_id}/progress", params={"tenant": B}, json={"status": "Dispatched"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["appointments"][0]["status"] == "Dispatched"


async def test_state_files_are_separate(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.db"
    app = multi_app(state)
    before = {tenant_id: len(tenant.jobs) for tenant_id, tenant in tenants(app).items()}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        headers = await headers_for(http, B)
        created = await http.post(api_path("jpm", "jobs", B), json=job_body(tenants(app)[B]), headers=headers)
        assert created.status_code == 200, created.text
    for files in app.state.state_files.values():
        files.close()
    assert state_files(tmp_path) == [f"sandbox-{A}.db", f"sandbox-{B}.db"]
    for tenant_id, seed in SEEDS.items():  # another process opening each file sees only its own tenant
        stored = create_sandbox_app(
            SandboxConfig(tenant_id=tenant_id, seed=seed, state=tmp_path / f"sandbox-{tenant_id}.db")
        ).state.sandbox
        assert stored.seed == seed
        assert len(stored.jobs) == before[tenant_id] + (1 if tenant_id == B else 0)


def state_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.db"))


def test_cli_resets_each_tenants_own_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "sandbox.db"
    assert (
        main(
            [
                "sandbox",
                "reset",
                "--state",
                str(state),
                "--seed",
                "5",
                "--tenant",
                "3101",
                "--tenant",
                "3102:11",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert f"sandbox tenant {A} in {tmp_path / 'sandbox-3101.db'} reset (seed 5)" in err
    assert f"sandbox tenant {B} in {tmp_path / 'sandbox-3102.db'} reset (seed 11)" in err
    for tenant_id, seed in ((A, 5), (B, 11)):
        stored = create_sandbox_app(SandboxConfig(seed=1, state=tenant_state_path(state, tenant_id)))
        assert stored.state.sandbox.seed == seed  # each file holds the tenant seeded with its own seed
    two = ["--tenant", "3101", "--tenant", "3102"]
    assert main(["sandbox", "progress", "1", "Dispatched", "--state", str(state), *two]) == 2
    assert "name one --tenant" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # argparse refuses a bad ID[:SEED] itself
        main(["sandbox", "--tenant", "31x"])
    assert exited.value.code == 2
    assert "give ID or ID:SEED" in capsys.readouterr().err


def test_st_mcp_asks_each_sandbox_tenant_with_its_own_client_id() -> None:
    assert SANDBOX_CLIENT_ID == SANDBOX_SIDE_CLIENT_ID
    settings = load_settings(environ={"ST_ENVIRONMENT": "sandbox", "ST_TENANT_ID": "3102"})
    assert settings.servicetitan.credentials()[1] == "sandbox-client-3102"
    default = load_settings(environ={}).servicetitan.credentials()
    assert default[:2] == (SANDBOX_TENANT_ID, "sandbox-client")  # unchanged for the default tenant


async def test_two_tenant_blocks_on_one_loopback_sandbox(tmp_path: Path) -> None:
    """st-mcp's own services for two [tenants.*] blocks, both pointed at one multi-tenant sandbox: each
    looks up a customer only its own sandbox tenant has, and does not find the other's."""
    sandbox = multi_app()
    base = "http://127.0.0.1:8799"
    lines = []
    for name, tenant_id in (("acme", A), ("bolt", B)):
        lines += [
            f"[tenants.{name}]",
            f'servicetitan = {{ environment = "sandbox", tenant_id = {tenant_id}, api_base_url = "{base}", '
            f'auth_url = "{base}/connect/token" }}',
        ]
    config = tmp_path / "st-mcp.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = load_settings(config, environ={"ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/st.db"})
    by_name = settings.tenant_settings()
    own = {A: tenants(sandbox)[A], B: tenants(sandbox)[B]}
    only = {
        tenant_id: sorted(
            {c.name for c in own[tenant_id].customers.values()}
            - {c.name for c in own[other].customers.values()}
        )[0]
        for tenant_id, other in ((A, B), (B, A))
    }
    for name, tenant_id, other in (("acme", A, B), ("bolt", B, A)):
        st = by_name[name].servicetitan
        assert not st.uses_embedded_sandbox
        upstream = connect_servicetitan(st, transport=httpx.ASGITransport(app=sandbox))
        try:
            async with open_app_context(by_name[name], upstream=upstream) as ctx:
                found = await ctx.customers.lookup(
                    phone=None, name=only[tenant_id], email=None, now=MONDAY_9AM
                )
                assert [c.name for c in found.customers] == [only[tenant_id]]
                missing = await ctx.customers.lookup(phone=None, name=only[other], email=None, now=MONDAY_9AM)
                assert missing.customers == []
        finally:
            await upstream.client.aclose()
        asked = [path for _, path in own[tenant_id].request_log if "/crm/" in path]
        assert asked and all(f"/tenant/{tenant_id}/" in path for path in asked)


async def test_the_plain_client_id_is_the_default_tenants_wherever_it_is_listed() -> None:
    # st-mcp asks 4417001 with the plain "sandbox-client", so that id must reach it even when listed second.
    app = create_multi_sandbox_app([SandboxConfig(tenant_id=A), SandboxConfig(tenant_id=SANDBOX_TENANT_ID)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        for client_id, tenant_id in ((SANDBOX_CLIENT_ID, SANDBOX_TENANT_ID), (f"sandbox-client-{A}", A)):
            response = await token(http, client_id)
            claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
            assert claims["tenant"] == str(tenant_id)


async def test_a_fixed_client_id_gets_a_tenant_suffix() -> None:
    app = create_multi_sandbox_app([SandboxConfig(tenant_id=t, client_id="cid") for t in SEEDS])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        for client_id, tenant_id in (("cid", A), (f"cid-{A}", A), (f"cid-{B}", B)):
            response = await token(http, client_id)
            assert response.status_code == 200, response.text
            claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
            assert claims["tenant"] == str(tenant_id)
        for refused in ("other", "cid-999", f"sandbox-client-{B}"):
            assert (await token(http, refused)).status_code == 400, refused
