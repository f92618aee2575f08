"""``[speed_to_lead] instant_reply``: the operator's approved first text leaves the moment a lead arrives,
through the same gate as every text (issue 17: speed to lead without polling)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from mcp import Client

from st_mcp.config import load_settings
from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.messaging.signatures import sign_lead_webhook
from st_mcp.server import create_server
from st_mcp.services.outreach.instant import SpeedToLeadSettings
from tests.interactions.conftest import Harness, ok

pytestmark = pytest.mark.anyio
TEMPLATE = "Hi {first_name}, it's {agent_name} at {company} — thanks for reaching out! What's going on?"
DENVER = ZoneInfo("America/Denver")
SECRET = "whsec-instant-0123456789abcdef"


@pytest.fixture
async def instant(harness: Harness) -> AsyncIterator[tuple[Client, SandboxGateway]]:
    """An agent on a server whose operator approved an instant first text (the harness's store)."""
    settings = harness.settings.model_copy(
        update={"speed_to_lead": SpeedToLeadSettings(instant_reply=TEMPLATE)}
    )
    gateway = SandboxGateway(harness.clock.now)
    async with Client(create_server(settings, upstream=harness.upstream, gateway=gateway)) as client:
        yield client, gateway


async def thread(client: Client, key: str) -> list[dict[str, Any]]:
    return list((await ok(client, "get_interaction", {"interaction_id": key}))["thread"])


async def test_the_first_text_leaves_as_the_lead_arrives(
    instant: tuple[Client, SandboxGateway],
) -> None:
    client, gateway = instant
    lead = await ok(client, "ingest_lead", {"name": "Ana Ruiz", "phone": "(303) 555-0177", "zip": "80210"})
    assert "already sent the operator's first text" in lead["note"]
    [sent] = gateway.sent_to("+13035550177")
    assert sent.message.body == (
        "Hi Ana, it's Sam at Peak Home Services — thanks for reaching out! What's going on?"
    )
    [item] = await thread(client, lead["interaction_id"])
    assert (item["direction"], item["sender"]) == ("outbound", "agent")
    queue = await ok(client, "get_lead_queue", {})
    actions = {entry["interaction_id"]: entry["action"] for entry in queue["items"]}
    assert actions.get(lead["interaction_id"]) != "first_touch"  # the first touch is done


async def test_quiet_hours_hold_the_instant_text_too(
    harness: Harness, instant: tuple[Client, SandboxGateway]
) -> None:
    client, gateway = instant
    harness.clock.set(datetime(2026, 5, 5, 21, 30, tzinfo=DENVER))
    lead = await ok(client, "ingest_lead", {"name": "Ana Ruiz", "phone": "(303) 555-0177", "zip": "80210"})
    assert "instant first text was not sent" in lead["note"] and "quiet hours" in lead["note"]
    assert gateway.sent_to("+13035550177") == []
    queue = await ok(client, "get_lead_queue", {})
    [entry] = [item for item in queue["items"] if item["interaction_id"] == lead["interaction_id"]]
    assert entry["action"] == "first_touch" and entry["can_send_now"] is False


async def test_a_signed_webhook_lead_is_texted_before_the_answer(harness: Harness) -> None:
    settings = harness.settings.model_copy(
        update={
            "speed_to_lead": SpeedToLeadSettings(instant_reply=TEMPLATE),
            "messaging": harness.settings.messaging.model_copy(
                update={"lead_webhook_secret": load_settings(
                    environ={"ST_MCP_LEAD_WEBHOOK_SECRET": SECRET}
                ).messaging.lead_webhook_secret}
            ),
        }
    )  # fmt: skip
    gateway = SandboxGateway(harness.clock.now)
    app = create_server(settings, upstream=harness.upstream, gateway=gateway).streamable_http_app(
        host="127.0.0.1"
    )
    body = json.dumps({"name": "Tom Becker", "phone": "(303) 555-0160", "zip": "80220"}).encode()
    headers = {"X-St-Mcp-Signature": sign_lead_webhook(SECRET, body, int(time.time()))}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as web:
        response = await web.post("/webhooks/leads", content=body, headers=headers)
    assert response.status_code == 202, response.text
    [sent] = gateway.sent_to("+13035550160")
    assert sent.message.body.startswith("Hi Tom, it's Sam")


@pytest.mark.parametrize(
    ("template", "problem"),
    [("Hi {name}!", "unknown placeholder {name}"), ("Hi {first_name", "unbalanced"), ("x" * 321, "320")],
)
def test_a_bad_template_is_a_one_line_error(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SpeedToLeadSettings(instant_reply=template)


async def test_someone_who_texts_first_gets_no_greeting_before_their_words_are_read(
    instant: tuple[Client, SandboxGateway],
) -> None:
    """An inbound text from an unknown number opens an Inbound SMS conversation: no instant greeting
    (their first words might be STOP)."""
    client, gateway = instant
    message = {"phone": "(303) 555-0190", "direction": "inbound", "text": "STOP"}
    result = await ok(client, "log_message", message)
    assert result["opted_out"] is True
    assert gateway.sent_to("+13035550190") == []
