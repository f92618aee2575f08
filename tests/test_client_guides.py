"""docs/clients.md, tested as a reader would use it: every JSON server entry is started as written (the
placeholder path replaced by this checkout, the client's variable syntax expanded the way that client
would, with nothing set) and must answer tools/list with the tools its role may see; the HTTP recipe's
own config, command line and Python client run against a real server on loopback."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from st_mcp.server.auth import hash_key

from .e2e.conftest import (
    AGENT_TOOLS,
    HIDDEN_FROM_AGENT,
    READ_TIMEOUT,
    TEST_TIMEOUT,
    explained,
    free_port,
    server_env,
    spawn,
    wait_for_port,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "clients.md").read_text(encoding="utf-8")
PLACEHOLDER = "/ABSOLUTE/PATH/TO/st-mcp"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# How each client expands variables in its config: VS Code ${input:…}, Cursor ${env:…}, Claude Code
# ${NAME} and ${NAME:-default}. Nothing is set here, so each becomes empty (or its default).
VARIABLE = re.compile(r"\$\{(?:input:|env:)?([A-Za-z0-9_-]+)(?::-([^}]*))?\}")


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(GUIDE) if lang == language]


def expand(value: str, given: dict[str, str] | None = None) -> str:
    return VARIABLE.sub(lambda m: (given or {}).get(m.group(1), m.group(2) or ""), value)


def entries() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for body in blocks("json"):
        document = json.loads(body)
        servers = document.get("mcpServers") or document.get("servers")
        assert servers, f"a JSON block without mcpServers/servers: {body[:80]}"
        found.extend((name, entry) for name, entry in servers.items())
    return found


STDIO = [(name, entry) for name, entry in entries() if "command" in entry]
HTTP = [(name, entry) for name, entry in entries() if "url" in entry]


def test_the_guide_covers_every_client() -> None:
    for heading in (
        "Claude Desktop",
        "Claude Code",
        "Cursor",
        "VS Code",
        "The MCP Inspector",
        "agent framework",
    ):
        assert f"## {heading}" in GUIDE or heading in GUIDE, heading
    for where in ("Library/Application Support/Claude", "%APPDATA%\\Claude", ".config/Claude"):
        assert where in GUIDE
    assert len(STDIO) >= 4 and len(HTTP) == 1
    for _, entry in STDIO:
        assert entry["command"].startswith(PLACEHOLDER) and "ST_MCP_ROLE" in entry["env"]
        assert {"ST_CLIENT_SECRET", "ST_APP_KEY"} <= set(entry["env"])


@pytest.mark.parametrize(
    "entry", [entry for _, entry in STDIO], ids=[f"stdio-{i}" for i in range(len(STDIO))]
)
def test_each_stdio_entry_starts_and_lists_its_roles_tools(entry: dict[str, Any], tmp_path: Path) -> None:
    command = entry["command"].replace(PLACEHOLDER, str(REPO))
    if not Path(command).exists():  # the checkout's venv is elsewhere (CI may run another interpreter)
        command = str(Path(sys.executable).parent / "st-mcp")
    env = server_env(tmp_path) | {key: expand(value) for key, value in entry.get("env", {}).items()}
    params = StdioServerParameters(
        command=command, args=list(entry.get("args", [])), env=env, cwd=str(tmp_path)
    )

    async def tools() -> set[str]:
        with anyio.fail_after(TEST_TIMEOUT):
            async with Client(params, read_timeout_seconds=READ_TIMEOUT) as client:
                return {tool.name for tool in (await client.list_tools()).tools}

    listed = anyio.run(tools)
    if env["ST_MCP_ROLE"] == "virtual_agent":
        assert listed >= AGENT_TOOLS and not listed & HIDDEN_FROM_AGENT
    else:  # a CSR sees the conversations and takes them over
        assert {"list_interactions", "takeover_interaction", "book_job"} <= listed


def test_the_http_recipe_serves_its_config_and_clients(tmp_path: Path) -> None:
    key = "doc-test-key-" + "x" * 24
    (toml,) = blocks("toml")
    config = tomllib.loads(toml)
    config["auth"]["api_keys"][0]["sha256"] = hash_key(key)  # the placeholder, filled as the guide says
    (tmp_path / "st-mcp.toml").write_text(
        "".join(
            "[[auth.api_keys]]\n" + "".join(f'{field} = "{value}"\n' for field, value in k.items())
            for k in config["auth"]["api_keys"]
        )
    )
    serve = next(
        line
        for body in blocks("bash")
        for line in body.splitlines()
        if "st-mcp serve --transport http" in line
    )
    words = shlex.split(serve)
    environment = dict(word.split("=", 1) for word in words[: words.index("st-mcp")])
    args = words[words.index("st-mcp") + 1 :]
    port = free_port()
    args[args.index("--port") + 1] = str(port)
    ((_name, entry),) = HTTP
    url = entry["url"].replace(":8000/", f":{port}/")
    headers = {k: expand(v, {"ST_MCP_API_KEY": key}) for k, v in entry["headers"].items()}
    (program,) = blocks("python")
    with spawn("st-mcp serve (clients.md)", args, server_env(tmp_path, **environment), tmp_path) as server:
        wait_for_port(server, port)
        with explained(server):

            async def over_http() -> tuple[set[str], int]:
                with anyio.fail_after(TEST_TIMEOUT):
                    async with httpx2.AsyncClient(timeout=READ_TIMEOUT) as anonymous:
                        refused = (await anonymous.post(url, json={})).status_code
                    async with (
                        httpx2.AsyncClient(headers=headers, timeout=READ_TIMEOUT) as http,
                        Client(streamable_http_client(url, http_client=http)) as client,
                    ):
                        return {tool.name for tool in (await client.list_tools()).tools}, refused

            listed, refused = anyio.run(over_http)
            assert refused == 401 and listed >= AGENT_TOOLS
            ran = subprocess.run(
                [sys.executable, "-c", program],
                capture_output=True, text=True, timeout=60,
                env={**os.environ, "ST_MCP_API_KEY": key, "ST_MCP_URL": url},
            )  # fmt: skip
            assert ran.returncode == 0, ran.stderr
            assert "book_job" in ran.stdout and "lookup_customer" in ran.stdout
