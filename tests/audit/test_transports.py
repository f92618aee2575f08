"""Real servers on real transports record how each call arrived — ``stdio``, ``http`` (streamable HTTP)
and ``sse`` — and the shipped ``st-mcp audit verify`` command checks what they wrote."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client

from tests.e2e.conftest import (
    READ_TIMEOUT,
    TEST_TIMEOUT,
    explained,
    free_port,
    server_env,
    spawn,
    structured,
    wait_for_port,
)

from .helpers import audit_log

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


async def transports_recorded(database_url: str) -> list[tuple[str, str, str]]:
    async with audit_log(database_url) as log:
        return [(r.tool, r.transport, r.outcome) async for r in log.iter_since()]


async def lookup(client: Client) -> None:
    structured(await client.call_tool("lookup_customer", {"phone": "(303) 555-0142"}), "lookup_customer")


async def test_stdio_calls_are_recorded_as_stdio(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    params = StdioServerParameters(command=sys.executable, args=["-m", "st_mcp"], env=env, cwd=tmp_path)
    with (tmp_path / "stdio.stderr").open("w+", encoding="utf-8") as errlog, anyio.fail_after(TEST_TIMEOUT):
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=READ_TIMEOUT) as client:
            await lookup(client)
    assert await transports_recorded(env["ST_MCP_DATABASE_URL"]) == [("lookup_customer", "stdio", "ok")]


@pytest.mark.parametrize(
    ("transport", "path", "recorded"), [("http", "/mcp", "http"), ("sse", "/sse", "sse")]
)
async def test_http_and_sse_calls_are_recorded_as_such(
    tmp_path: Path, transport: str, path: str, recorded: str
) -> None:
    env = server_env(tmp_path)
    port = free_port()
    args = ["serve", "--transport", transport, "--host", "127.0.0.1", "--port", str(port)]
    with spawn(f"st-mcp serve --transport {transport}", args, env, tmp_path) as server:
        wait_for_port(server, port)
        with explained(server), anyio.fail_after(TEST_TIMEOUT):
            url = f"http://127.0.0.1:{port}{path}"
            target = sse_client(url, timeout=READ_TIMEOUT) if transport == "sse" else url
            async with Client(target, read_timeout_seconds=READ_TIMEOUT) as client:
                await lookup(client)
                await client.call_tool("get_interaction", {"interaction_id": "int_missing"})
    assert await transports_recorded(env["ST_MCP_DATABASE_URL"]) == [
        ("lookup_customer", recorded, "ok"),
        ("get_interaction", recorded, "denied"),  # the default stdio role, virtual_agent, lacks chats.view
    ]
    # The installed command, in its own process, on the file the server wrote.
    with anyio.fail_after(60):
        verify = await anyio.run_process(
            [sys.executable, "-m", "st_mcp", "audit", "verify"],
            env={**env, "PATH": os.environ.get("PATH", os.defpath)},
            cwd=tmp_path,
            check=False,
        )
    out = verify.stdout.decode()
    assert (verify.returncode, out.split(";")[0].strip()) == (0, "audit chain OK: 2 records"), verify.stderr
