"""Webhooks with two tenants on one server: each request reaches the tenant that owns what it names.

Both contractors have a lead on the same phone. A lead signed with one tenant's secret lands with that tenant
(not as the other's duplicate); a STOP texted to one tenant's number, signed with that tenant's Twilio token,
opts the phone out of that tenant only — the other may still text it, from its own number. A request signed
with the other tenant's token, or to a number no tenant owns, is refused and writes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from mcp import Client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from st_mcp.config import Settings, load_settings
from st_mcp.messaging.signatures import sign_lead_webhook, twilio_signature
from st_mcp.server import create_server
from st_mcp.store.schema import interactions, suppressions

pytestmark = pytest.mark.anyio

PUBLIC = "https://agent.example.com"
TENANTS = {  # name → (SMS number, Twilio token, lead secret)
    "acme": ("+13035550170", "acme-twilio-token-0123456789", "acme-lead-secret-0123456789"),
    "bolt": ("+13035550171", "bolt-twilio-token-0123456789", "bolt-lead-secret-0123456789"),
}
# Texts go out in the leads' daytime whatever the hour the suite runs (the gate's quiet hours follow it).
MORNING = "2026-05-05T10:30:00-06:00"
LEAD = {"name": "Ana Ruiz", "phone": "(303) 555-0177", "zip": "80210", "source": "Angi"}


def config(tmp_path: Path) -> Path:
    lines = ['[sandbox]\nstate = "memory"']
    for n, (name, (number, token, secret)) in enumerate(TENANTS.items()):
        lines.append(
            f"[tenants.{name}]\n"
            f'servicetitan = {{ environment = "sandbox", tenant_id = {3201 + n}, '
            f'sandbox_clock = "{MORNING}" }}\n'
            f'messaging = {{ gateway = "twilio", twilio_account_sid = "AC{"0" * 32}", '
            f'twilio_auth_token = "{token}", twilio_from_number = "{number}", '
            f'public_base_url = "{PUBLIC}", lead_webhook_secret = "{secret}" }}'
        )
    path = tmp_path / "st-mcp.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def settings_for(tmp_path: Path, store_url: str, tenant: str | None = None) -> Settings:
    environ = {"ST_MCP_DATABASE_URL": store_url, **({"ST_MCP_TENANT": tenant} if tenant else {})}
    return load_settings(config(tmp_path), environ=environ)


@pytest.fixture
async def web(tmp_path: Path, store_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_server(settings_for(tmp_path, store_url)).streamable_http_app(host="127.0.0.1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as web:
        yield web


async def rows(store_url: str, table: Any) -> list[dict[str, Any]]:
    engine = create_async_engine(store_url)
    try:
        async with engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(select(table))).mappings()]
    finally:
        await engine.dispose()


async def post_lead(web: httpx.AsyncClient, secret: str) -> httpx.Response:
    body = json.dumps(LEAD).encode()
    headers = {"X-St-Mcp-Signature": sign_lead_webhook(secret, body, int(time.time()))}
    return await web.post(
        "/webhooks/leads", content=body, headers={**headers, "Content-Type": "application/json"}
    )


async def post_sms(web: httpx.AsyncClient, to: str, token: str, text: str, sid: str) -> httpx.Response:
    form = {"From": "+13035550177", "To": to, "Body": text, "MessageSid": sid}
    signature = twilio_signature(token, f"{PUBLIC}/webhooks/sms/twilio", form)
    return await web.post("/webhooks/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})


async def test_each_webhook_reaches_the_tenant_that_owns_it(
    tmp_path: Path, store_url: str, web: httpx.AsyncClient
) -> None:
    (acme_number, acme_token, _), (_, bolt_token, _) = TENANTS.values()
    taken = {name: await post_lead(web, TENANTS[name][2]) for name in TENANTS}
    assert [response.status_code for response in taken.values()] == [202, 202]
    assert [response.json()["duplicate"] for response in taken.values()] == [False, False]  # not each other's
    stored = {row["id"]: row["tenant"] for row in await rows(store_url, interactions)}
    assert stored == {taken[name].json()["interaction_id"]: name for name in TENANTS}

    with respx.mock(base_url="https://api.twilio.com", assert_all_called=False) as twilio:
        sent = twilio.post(path__regex=r"/Messages\.json").respond(
            201, json={"sid": "SM" + "2" * 32, "status": "queued"}
        )
        refused = await post_sms(
            web, acme_number, bolt_token, "STOP", "SM" + "3" * 32
        )  # bolt's token, acme's number
        assert refused.status_code == 403 and sent.call_count == 0
        stranger = await post_sms(web, "+13035550199", acme_token, "STOP", "SM" + "4" * 32)
        assert stranger.status_code == 403 and "no tenant's SMS number" in stranger.json()["error"]
        assert await rows(store_url, suppressions) == []

        stop = await post_sms(web, acme_number, acme_token, "STOP", "SM" + "5" * 32)
        assert stop.status_code == 200, stop.text
        [confirmation] = sent.calls  # the opt-out confirmation, from acme's number
        assert parse_qs(confirmation.request.content.decode())["From"] == [acme_number]
    assert [(row["tenant"], row["phone"]) for row in await rows(store_url, suppressions)] == [
        ("acme", "+13035550177")
    ]

    # Through MCP: acme's agent may not text the phone any more; bolt's still may, from bolt's number.
    for tenant, allowed in (("acme", False), ("bolt", True)):
        with respx.mock(base_url="https://api.twilio.com", assert_all_called=False) as twilio:
            sent = twilio.post(path__regex=r"/Messages\.json").respond(
                201, json={"sid": "SM" + "6" * 32, "status": "queued"}
            )
            async with Client(create_server(settings_for(tmp_path, store_url, tenant))) as agent:
                result = await agent.call_tool(
                    "send_message",
                    {"interaction_id": taken[tenant].json()["interaction_id"], "text": "Still need a hand?"},
                )
            assert result.is_error is not allowed, (tenant, result.content)
            froms = [parse_qs(call.request.content.decode())["From"] for call in sent.calls]
            assert froms == ([[TENANTS[tenant][0]]] if allowed else []), tenant
