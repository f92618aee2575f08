"""The compliance gate's decisions and the lead queue's depth reach Prometheus, counted where they are
recorded (the gate's audit recorder, the queue), not by the tools."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from mcp import Client
from prometheus_client import REGISTRY

from tests.interactions.conftest import Harness, ok
from tests.outreach.test_send_gate import lead

pytestmark = pytest.mark.anyio
DEFAULT = {"tenant": "default"}


def gate(rule: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "st_mcp_gate_decisions_total", {"rule": rule, "outcome": outcome, "tenant": "default"}
        )
        or 0.0
    )


async def test_gate_decisions_and_queue_depth_are_counted(harness: Harness, agent: Client) -> None:
    cleared, quiet = gate("clear", "allowed"), gate("quiet_hours", "blocked")
    key = await lead(agent, "3035550191", zip="80210")
    await ok(agent, "get_lead_queue", {})
    assert REGISTRY.get_sample_value("st_mcp_lead_queue_due", DEFAULT) == 1
    await ok(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    assert gate("clear", "allowed") == cleared + 1
    await ok(agent, "get_lead_queue", {})
    assert REGISTRY.get_sample_value("st_mcp_lead_queue_due", DEFAULT) == 0
    assert REGISTRY.get_sample_value("st_mcp_lead_queue_upcoming", DEFAULT) == 1

    harness.clock.set(datetime(2026, 5, 5, 22, 30, tzinfo=ZoneInfo("America/Denver")))
    refused = await agent.call_tool("send_message", {"interaction_id": key, "text": "Still there?"})
    assert refused.is_error
    assert gate("quiet_hours", "blocked") == quiet + 1


def upstream_total() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "st_mcp_upstream_requests"
        for sample in metric.samples
        if sample.name == "st_mcp_upstream_requests_total" and sample.labels.get("tenant") == "default"
    )


async def test_each_servicetitan_request_is_counted_once_however_often_the_client_is_reused(
    harness: Harness,
) -> None:
    """The harness's one ServiceTitan client serves every connection's app context: its observer is added
    once per tenant, not once per connection (which would count each request twice, then three times)."""
    for _ in range(3):
        async with harness.connect() as client:
            before, requests = upstream_total(), len(harness.sandbox.request_log)
            await ok(client, "lookup_customer", {"phone": "(303) 555-0142"})
            assert upstream_total() - before == len(harness.sandbox.request_log) - requests > 0
