"""Known secrets set, a busy session run — none of them shows up in logs, audit, errors or tool output.

Every secret the server holds is set to a recognisable value: the ServiceTitan client secret and app
key, the ServiceTitan access token it is issued, the Twilio auth token, the lead-webhook secret and an
HTTP API key. Then tools are called the ways that log the most: successes, bad input, an upstream
failure with a traceback, a compliance refusal; and the CLI's audit export and a config error run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from st_mcp.cli import main
from st_mcp.config import load_settings
from st_mcp.server import create_server
from st_mcp.server.auth import hash_key
from st_mcp.store.schema import audit_events
from st_mcp.upstream import connect_servicetitan

pytestmark = pytest.mark.anyio

CLIENT_SECRET = "cs-KNOWN-SECRET-4f1e8a"
APP_KEY = "ak-KNOWN-SECRET-9b2c71"
TWILIO_TOKEN = "tw-KNOWN-SECRET-77aa03"
WEBHOOK_SECRET = "wh-KNOWN-SECRET-31cd55"
API_KEY = "key-KNOWN-SECRET-0d9e64"


def environment(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "st-mcp.toml"
    config.write_text(
        f'[[auth.api_keys]]\nprincipal = "dana"\nrole = "csr"\nsha256 = "{hash_key(API_KEY)}"\n',
        encoding="utf-8",
    )
    return {
        "ST_TENANT_ID": "4417001",
        "ST_CLIENT_ID": "client-known",
        "ST_CLIENT_SECRET": CLIENT_SECRET,
        "ST_APP_KEY": APP_KEY,
        "ST_ENVIRONMENT": "sandbox",
        "ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'secrets.db'}",
        "ST_MCP_ROLE": "manager",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "ST_MCP_LEAD_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ST_MCP_CONFIG": str(config),
        "ST_MCP_CLOCK": "2026-05-05T10:30:00-06:00",
    }


async def test_no_secret_leaves_the_server(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = environment(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    settings = load_settings()
    upstream = connect_servicetitan(settings.servicetitan)
    outputs: list[str] = []

    async def call(client: Client, tool: str, arguments: dict[str, Any]) -> None:
        result = await client.call_tool(tool, arguments)
        outputs.append(json.dumps(result.structured_content or {}))
        outputs.extend(getattr(block, "text", "") for block in result.content)

    async with upstream.client, Client(create_server(settings, upstream=upstream)) as client:
        await call(client, "lookup_customer", {"phone": "(303) 555-0142"})
        await call(client, "lookup_customer", {"phone": "not a phone"})
        lead = await client.call_tool(
            "ingest_lead", {"name": "Ana Ruiz", "phone": "3035550177", "zip": "80210"}
        )
        key = (lead.structured_content or {})["interaction_id"]
        await call(client, "send_message", {"interaction_id": key, "text": "Hi Ana"})
        await call(client, "log_message", {"interaction_id": key, "direction": "inbound", "text": "STOP"})
        await call(client, "send_message", {"interaction_id": key, "text": "Still there?"})  # blocked
        assert upstream.sandbox_app is not None
        upstream.sandbox_app.state.sandbox.faults.add("POST", r"/capacity$", status=500, times=10)
        await call(client, "get_available_slots", {"job_type": "Heating Repair", "zip": "80210"})  # fails
        await call(client, "get_audit_log", {"limit": 100})
        access_token = upstream.client.http.tokens._token["access_token"]  # type: ignore[index]

    # The CLI runs its own event loop: in a worker thread, as from a shell.
    assert await anyio.to_thread.run_sync(main, ["audit", "export"]) == 0
    # A config error names the variable, never the value.
    monkeypatch.setenv("ST_TENANT_ID", "abc")
    assert await anyio.to_thread.run_sync(main, ["check"]) == 2
    printed = capsys.readouterr()

    engine = create_async_engine(env["ST_MCP_DATABASE_URL"])
    async with engine.connect() as conn:
        audit = [
            json.dumps(dict(row), default=str)
            for row in (await conn.execute(select(audit_events))).mappings()
        ]
    await engine.dispose()
    assert len(audit) >= 8

    places = {
        "logs": caplog.text,
        "tool output": "\n".join(outputs),
        "audit records": "\n".join(audit),
        "stdout/stderr": printed.out + printed.err,
    }
    for secret in (CLIENT_SECRET, APP_KEY, TWILIO_TOKEN, WEBHOOK_SECRET, API_KEY, access_token):
        for where, text in places.items():
            assert secret not in text, f"a secret appears in {where}"
    # The run really exercised the noisy paths.
    assert "did not answer" in places["tool output"] and "opted out" in places["tool output"]
    assert "ST_TENANT_ID" in printed.err
