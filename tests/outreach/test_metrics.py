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


def gate(rule: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("st_mcp_gate_decisions_total", {"rule": rule, "outcome": outcome}) or 0.0


async def test_gate_decisions_and_queue_depth_are_counted(harness: Harness, agent: Client) -> None:
    cleared, quiet = gate("clear", "allowed"), gate("quiet_hours", "blocked")
    key = await lead(agent, "3035550191", zip="80210")
    await ok(agent, "get_lead_queue", {})
    assert REGISTRY.get_sample_value("st_mcp_lead_queue_due") == 1
    await ok(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    assert gate("clear", "allowed") == cleared + 1
    await ok(agent, "get_lead_queue", {})
    assert REGISTRY.get_sample_value("st_mcp_lead_queue_due") == 0
    assert REGISTRY.get_sample_value("st_mcp_lead_queue_upcoming") == 1

    harness.clock.set(datetime(2026, 5, 5, 22, 30, tzinfo=ZoneInfo("America/Denver")))
    refused = await agent.call_tool("send_message", {"interaction_id": key, "text": "Still there?"})
    assert refused.is_error
    assert gate("quiet_hours", "blocked") == quiet + 1
