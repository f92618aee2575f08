"""Speed to Lead without polling: an agent subscribed to ``lead-queue://now`` hears of a new lead or a
reply the moment it arrives, on both protocol eras, and only if it may read the queue."""

from __future__ import annotations

import json
import warnings
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from st_mcp.server.lead_feed import LEAD_QUEUE_URI

from .conftest import Harness, ok
from .test_doors import connect_as, records

pytestmark = pytest.mark.anyio
LEAD = {"name": "Casey Lin", "phone": "(720) 555-0177", "zip": "80210", "source": "Website"}


async def test_a_listener_hears_of_a_new_lead_and_reads_it_from_the_queue(harness: Harness) -> None:
    async with harness.connect() as agent, harness.connect() as intake:
        async with agent.listen(resource_subscriptions=[LEAD_QUEUE_URI]) as subscription:
            created = await ok(intake, "ingest_lead", LEAD)
            with anyio.fail_after(10):
                event = await anext(aiter(subscription))
        assert getattr(event, "uri", None) == LEAD_QUEUE_URI

        read = await agent.read_resource(LEAD_QUEUE_URI)
        queue = json.loads(read.contents[0].text)  # type: ignore[union-attr]
        assert created["interaction_id"] in json.dumps(queue)


async def test_a_2025_session_that_subscribed_is_told_of_a_reply(harness: Harness) -> None:
    heard: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: Any) -> None:
        root = getattr(message, "root", message)
        if getattr(root, "method", "") == "notifications/resources/updated":
            heard.append(str(root.params.uri))
            arrived.set()

    async with harness.connect() as intake:
        created = await ok(intake, "ingest_lead", LEAD)
        legacy = Client(harness.server, mode="legacy", message_handler=on_message)  # type: ignore[arg-type]
        async with legacy:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the SDK marks resources/subscribe as 2025-era only
                await legacy.subscribe_resource(LEAD_QUEUE_URI)
            await ok(
                intake,
                "log_message",
                {
                    "interaction_id": created["interaction_id"],
                    "direction": "inbound",
                    "text": "Yes, tomorrow works",
                    "channel": "sms",
                },
            )
            with anyio.fail_after(10):
                await arrived.wait()
    assert heard == [LEAD_QUEUE_URI]


async def test_a_principal_who_may_not_read_the_queue_cannot_subscribe_to_it(harness: Harness) -> None:
    async with connect_as(harness, "auditor") as auditor:
        with pytest.raises(MCPError) as refused:
            async with auditor.listen(resource_subscriptions=[LEAD_QUEUE_URI]):
                pass
        assert "agent.converse" in refused.value.error.message
        listed = {str(r.uri) for r in (await auditor.list_resources()).resources}
        assert LEAD_QUEUE_URI not in listed
    denied = [r for r in await records(harness) if r.tool == LEAD_QUEUE_URI and r.outcome == "denied"]
    assert denied, "the refused subscription is audited"
