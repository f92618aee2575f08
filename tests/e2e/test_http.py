"""``st-mcp serve --transport http`` on loopback, for 2026-07-28 (auto) and 2025-11-25 (legacy) clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import httpx
import pytest
from mcp import Client

from .conftest import (
    READ_TIMEOUT,
    SANDBOX_NOTICE,
    TEST_TIMEOUT,
    Spawned,
    exercise_read_tools,
    explained,
    free_port,
    server_env,
    spawn,
    wait_for_port,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

PROTOCOL = {"auto": "2026-07-28", "legacy": "2025-11-25"}


@dataclass
class HttpServer:
    process: Spawned
    url: str
    stateless: bool


@pytest.fixture(scope="module", params=["stateful", "stateless"])
def http_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HttpServer]:
    folder = tmp_path_factory.mktemp(f"http-{request.param}")
    port = free_port()
    args = ["serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
    if request.param == "stateless":
        args.append("--stateless")
    with spawn(
        f"st-mcp serve --transport http ({request.param})", args, server_env(folder), folder
    ) as server:
        wait_for_port(server, port)
        yield HttpServer(server, f"http://127.0.0.1:{port}/mcp", stateless=request.param == "stateless")


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_http_list_lookup_and_slots(http_server: HttpServer, mode: str) -> None:
    with explained(http_server.process), anyio.fail_after(TEST_TIMEOUT):
        async with Client(http_server.url, mode=mode, read_timeout_seconds=READ_TIMEOUT) as client:
            assert client.session.protocol_version == PROTOCOL[mode]
            await exercise_read_tools(client)
        assert SANDBOX_NOTICE in http_server.process.stderr


async def test_http_session_id_only_when_stateful(http_server: HttpServer) -> None:
    """A handshake-era initialize gets an Mcp-Session-Id unless the server runs --stateless."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "st-mcp-e2e", "version": "0"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    with explained(http_server.process), anyio.fail_after(TEST_TIMEOUT):
        async with httpx.AsyncClient(timeout=READ_TIMEOUT) as http:
            response = await http.post(http_server.url, json=initialize, headers=headers)
        assert response.status_code == 200, response.text
        assert '"protocolVersion":"2025-11-25"' in response.text, response.text
        has_session = "mcp-session-id" in response.headers
        assert has_session is not http_server.stateless, dict(response.headers)
