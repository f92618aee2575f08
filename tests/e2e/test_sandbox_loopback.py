"""The MCP server against ``st-mcp sandbox`` over loopback HTTP, as against a real ServiceTitan tenant.

The booked job is then read back from the sandbox's own API, so the booking demonstrably went over the
network to the sandbox process and not to an in-process tenant.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from .conftest import (
    READ_TIMEOUT,
    SANDBOX_NOTICE,
    SANDBOX_TENANT_ID,
    TEST_TIMEOUT,
    Spawned,
    TransportFaults,
    book_first_slot,
    exercise_read_tools,
    explained,
    free_port,
    read_log,
    server_env,
    spawn,
    wait_for_port,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Spawned, str]]:
    port = free_port()
    folder = tmp_path / "sandbox"
    with spawn("st-mcp sandbox", ["sandbox", "--port", str(port)], server_env(folder), folder) as server:
        wait_for_port(server, port)
        yield server, f"http://127.0.0.1:{port}"


@pytest.fixture
def errlog(tmp_path: Path) -> Iterator[TextIO]:
    with (tmp_path / "mcp-server.stderr").open("w+", encoding="utf-8") as file:
        yield file


async def test_book_through_loopback_sandbox(
    tmp_path: Path, sandbox: tuple[Spawned, str], errlog: TextIO
) -> None:
    sandbox_process, base = sandbox
    env = server_env(
        tmp_path / "mcp-server",
        ST_ENVIRONMENT="sandbox",
        ST_API_BASE_URL=base,
        ST_AUTH_URL=f"{base}/connect/token",
    )
    params = StdioServerParameters(command=sys.executable, args=["-m", "st_mcp"], env=env, cwd=tmp_path)
    faults = TransportFaults()
    with explained(Path(errlog.name), sandbox_process), anyio.fail_after(TEST_TIMEOUT):
        transport = stdio_client(params, errlog=errlog)
        async with Client(transport, message_handler=faults, read_timeout_seconds=READ_TIMEOUT) as client:
            pieces = await exercise_read_tools(client)
            booked = await book_first_slot(client, pieces)
        assert faults.errors == [], f"server wrote non-protocol output to stdout: {faults.errors!r}"
        assert f"{SANDBOX_NOTICE} {SANDBOX_TENANT_ID} ({base})" in read_log(Path(errlog.name))

        async with httpx.AsyncClient(base_url=base, timeout=READ_TIMEOUT) as http:
            form = {"grant_type": "client_credentials", "client_id": "e2e", "client_secret": "e2e"}
            token = await http.post("/connect/token", data=form)
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}", "ST-App-Key": "anything"}
            response = await http.get(
                f"/jpm/v2/tenant/{SANDBOX_TENANT_ID}/jobs/{booked['job_id']}", headers=headers
            )
        assert response.status_code == 200, response.text
        job = response.json()
        assert job["id"] == booked["job_id"]
        assert job["jobNumber"] == booked["job_number"]
        assert job["customerId"] == pieces["customer"]["customer_id"]
        assert job["locationId"] == pieces["location"]["location_id"]
        assert job["jobStatus"] == "Scheduled"
