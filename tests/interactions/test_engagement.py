"""Engagement temperature as the conversation goes on: the status follows how recently and how often the
lead replied (default thresholds: Hot ≤ 30 min, Warm ≤ 4 h, Cool ≤ 24 h, else Cold; 3 replies in the last
24 h lift it one step), recomputed on every message."""

from __future__ import annotations

import pytest
from mcp import Client

from .conftest import Harness, ingest, say

pytestmark = pytest.mark.anyio

MINUTE, HOUR, DAY = 60, 3600, 86400


async def conversation(agent: Client) -> str:
    key = str((await ingest(agent, "Derek Olsen", "303-555-0107", zip="80304"))["interaction_id"])
    assert (await say(agent, key, "outbound", "Hi Derek, this is Peak Home Services."))["status"] == "Active"
    return key


@pytest.mark.parametrize(
    ("wait", "expected"),
    [
        (30 * MINUTE, "Active: Hot"),
        (30 * MINUTE + 1, "Active: Warm"),
        (4 * HOUR, "Active: Warm"),
        (4 * HOUR + 1, "Active: Cool"),
        (DAY, "Active: Cool"),
        (DAY + 1, "Active: Cold"),
    ],
)
async def test_the_temperature_follows_the_last_reply(
    harness: Harness, agent: Client, wait: int, expected: str
) -> None:
    key = await conversation(agent)
    assert (await say(agent, key, "inbound", "Yes, I still need help."))["status"] == "Active: Hot"
    harness.clock.advance(wait)
    assert (await say(agent, key, "outbound", "Are you still there?"))["status"] == expected


async def test_frequent_replies_lift_the_temperature(harness: Harness, agent: Client) -> None:
    key = await conversation(agent)
    for text in ("Yes", "Tomorrow works", "Morning please"):
        await say(agent, key, "inbound", text)
        harness.clock.advance(MINUTE)
    harness.clock.advance(5 * HOUR)  # 5 h since the last reply: Cool, lifted to Warm by 3 replies in 24 h
    assert (await say(agent, key, "outbound", "Still want the morning slot?"))["status"] == "Active: Warm"


async def test_only_replies_of_the_last_24_hours_lift_it(harness: Harness, agent: Client) -> None:
    key = await conversation(agent)
    for text in ("Yes", "Tomorrow works", "Morning please"):
        await say(agent, key, "inbound", text)
    harness.clock.advance(7 * DAY)  # the replies are a week old: Cold, and nothing recent to lift it
    assert (await say(agent, key, "outbound", "Checking in about your drain."))["status"] == "Active: Cold"
    # Two more replies now: with only 2 in the last 24 h, no lift — but Hot anyway, it is fresh.
    assert (await say(agent, key, "inbound", "Still broken"))["status"] == "Active: Hot"
    harness.clock.advance(5 * HOUR)
    assert (await say(agent, key, "outbound", "Can we come Thursday?"))["status"] == "Active: Cool"


async def test_a_conversation_that_was_not_active_keeps_its_status(harness: Harness, agent: Client) -> None:
    key = await conversation(agent)
    await say(agent, key, "inbound", "I want to talk to a person")
    await agent.call_tool(
        "escalate_to_dispatcher",
        {"interaction_id": key, "reason": "human_request", "note": "Wants a person."},
    )
    harness.clock.advance(DAY + 1)
    assert (await say(agent, key, "inbound", "Hello?"))["status"] == "Escalated (Human Request)"
