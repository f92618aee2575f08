"""``st-mcp serve --transport sse`` (the deprecated transport older agent frameworks still use)."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from mcp import Client, ClientSession
from mcp.client.sse import sse_client

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
    structured,
    wait_for_port,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


@pytest.fixture(scope="module")
def sse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Spawned, str]]:
    folder = tmp_path_factory.mktemp("sse")
    port = free_port()
    args = ["serve", "--transport", "sse", "--host", "127.0.0.1", "--port", str(port)]
    with spawn("st-mcp serve --transport sse", args, server_env(folder), folder) as server:
        wait_for_port(server, port)
        yield server, f"http://127.0.0.1:{port}/sse"


async def test_sse_low_level_session(sse_server: tuple[Spawned, str]) -> None:
    """The v1-style pairing old frameworks use: sse_client streams + ClientSession.initialize()."""
    server, url = sse_server
    with explained(server), anyio.fail_after(TEST_TIMEOUT):
        async with (
            sse_client(url, timeout=READ_TIMEOUT) as (read, write),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            assert init.protocol_version == "2025-11-25"
            assert init.server_info.name == "st-mcp"
            tools = await session.list_tools()
            assert "lookup_customer" in {tool.name for tool in tools.tools}
            found = structured(
                await session.call_tool("lookup_customer", {"phone": "(303) 555-0142"}), "lookup_customer"
            )
            assert found["customers"][0]["name"] == "Jordan Avery"
        assert SANDBOX_NOTICE in server.stderr


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_sse_through_client(sse_server: tuple[Spawned, str], mode: str) -> None:
    server, url = sse_server
    with explained(server), anyio.fail_after(TEST_TIMEOUT):
        async with Client(
            sse_client(url, timeout=READ_TIMEOUT), mode=mode, read_timeout_seconds=READ_TIMEOUT
        ) as client:
            await exercise_read_tools(client)
