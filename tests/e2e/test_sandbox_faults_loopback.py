"""``st-mcp sandbox`` over real TCP: faults from ``--faults FILE`` and from ``/_sandbox/faults`` (a reset
drops the connection, a timeout gives no answer, a 502 after the write keeps the job), and the tenant it
serves is the state file any other process on the folder opens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from st_mcp.sandbox import SandboxClock, SandboxConfig, create_sandbox_app
from tests.sandbox.conftest import MONDAY_9AM
from tests.sandbox.test_jobs import job_body

from .conftest import SANDBOX_TENANT_ID, Spawned, explained, free_port, server_env, spawn, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

JOBS = f"/jpm/v2/tenant/{SANDBOX_TENANT_ID}/jobs"
HOURS = f"/dispatch/v2/tenant/{SANDBOX_TENANT_ID}/business-hours"
FAULTS_FILE = """
[[fault]]
method = "GET"
path = "/business-hours$"
status = "reset"
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Spawned, str, Path]]:
    port, folder = free_port(), tmp_path / "data"
    folder.mkdir()
    (folder / "faults.toml").write_text(FAULTS_FILE, encoding="utf-8")
    args = ["sandbox", "--port", str(port), "--faults", "faults.toml", "--latency-ms", "1"]
    args += ["--clock", MONDAY_9AM.isoformat()]
    with spawn("st-mcp sandbox", args, server_env(folder), folder) as server:
        wait_for_port(server, port)
        yield server, f"http://127.0.0.1:{port}", folder / "sandbox.db"


@pytest.fixture
async def http(sandbox: tuple[Spawned, str, Path]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox[1], timeout=10.0) as client:
        form = {"grant_type": "client_credentials", "client_id": "e2e", "client_secret": "e2e"}
        token = (await client.post("/connect/token", data=form)).json()["access_token"]
        client.headers.update({"Authorization": f"Bearer {token}", "ST-App-Key": "anything"})
        yield client


async def test_faults_over_loopback(sandbox: tuple[Spawned, str, Path], http: httpx.AsyncClient) -> None:
    server, _, state = sandbox
    # The same seed and clock as the server's: its ids and names.
    tenant = create_sandbox_app(SandboxConfig(clock=SandboxClock(MONDAY_9AM))).state.sandbox
    with explained(server):
        with pytest.raises(httpx.TransportError):  # from --faults: the connection drops, no status line
            await http.get(HOURS)
        assert (await http.get(HOURS)).status_code == 200  # times = 1

        rule = {"method": "POST", "path": r"/jobs$", "status": 502, "when": "after"}
        assert (await http.post("/_sandbox/faults", json=rule)).status_code == 201
        failed = await http.post(JOBS, json=job_body(tenant))
        assert failed.status_code == 502 and failed.json()["status"] == 502

        rule = {"method": "GET", "path": r"/jobs$", "status": "timeout", "delayMs": 5000}
        assert (await http.post("/_sandbox/faults", json=rule)).status_code == 201
        with pytest.raises(httpx.ReadTimeout):
            await http.get(JOBS, timeout=0.5)
        assert (await http.delete("/_sandbox/faults")).status_code == 204
        listed = (await http.get(JOBS, params={"pageSize": 5000})).json()["data"]

    # The 502 came after the write: the job is in the tenant, and in the state file another process opens.
    mine = [job for job in listed if job["summary"] == "AC blowing warm air"]
    assert len(mine) == 1, mine
    other = create_sandbox_app(SandboxConfig(state=state)).state.sandbox
    assert mine[0]["id"] in other.jobs
