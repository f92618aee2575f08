"""The compliance gate through the real tools: every rule at its boundary, every entry point.

The sandbox clock is set to the instant under test; each lead's local time comes from its ZIP (or
state, or area code), never from the business's Denver time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mcp import Client
from sqlalchemy import select

from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.store.schema import audit_events, suppressions
from tests.interactions.conftest import CSR_NAME, Harness, ingest, ok, refused, say

pytestmark = pytest.mark.anyio

DENVER, NEW_YORK, CHICAGO = (
    ZoneInfo("America/Denver"),
    ZoneInfo("America/New_York"),
    ZoneInfo("America/Chicago"),
)


def gateway(harness: Harness) -> SandboxGateway:
    outbox = harness.app.outreach.gateway
    assert isinstance(outbox, SandboxGateway)
    return outbox


async def lead(agent: Client, phone: str, **where: Any) -> str:
    result = await ingest(agent, "Casey Lead", phone, **where)
    assert result["status"] == "Started", result
    return str(result["interaction_id"])


async def send(client: Client, key: str, text: str = "Hi, this is Sam from Peak Home Services.") -> Any:
    return await client.call_tool("send_message", {"interaction_id": key, "text": text})


def message(result: Any) -> str:
    return str(result.content[0].text)


@pytest.mark.parametrize(
    ("where", "phone", "local", "allowed"),
    [
        ({"zip": "80210"}, "3035550191", datetime(2026, 5, 5, 20, 59, tzinfo=DENVER), True),
        ({"zip": "80210"}, "3035550191", datetime(2026, 5, 5, 21, 0, tzinfo=DENVER), False),
        ({"zip": "80210"}, "3035550191", datetime(2026, 5, 5, 7, 59, tzinfo=DENVER), False),
        ({"zip": "80210"}, "3035550191", datetime(2026, 5, 5, 8, 0, tzinfo=DENVER), True),
        ({"zip": "33609"}, "8135550192", datetime(2026, 5, 5, 19, 59, tzinfo=NEW_YORK), True),
        ({"zip": "33609"}, "8135550192", datetime(2026, 5, 5, 20, 0, tzinfo=NEW_YORK), False),
        ({"zip": "78704"}, "5125550193", datetime(2026, 5, 10, 11, 59, tzinfo=CHICAGO), False),  # Sunday
        ({"zip": "78704"}, "5125550193", datetime(2026, 5, 10, 12, 0, tzinfo=CHICAGO), True),
        ({"zip": "78704"}, "5125550193", datetime(2026, 5, 9, 8, 59, tzinfo=CHICAGO), False),  # Saturday
        ({"zip": "78704"}, "5125550193", datetime(2026, 5, 9, 9, 0, tzinfo=CHICAGO), True),
    ],
)
async def test_quiet_hours_at_their_boundaries(
    harness: Harness, agent: Client, where: dict[str, str], phone: str, local: datetime, allowed: bool
) -> None:
    key = await lead(agent, phone, **where)
    harness.clock.set(local)
    result = await send(agent, key)
    assert bool(result.is_error) is not allowed, message(result)
    assert len(gateway(harness).outbox) == (1 if allowed else 0)
    if not allowed:
        text = message(result)
        assert "quiet hours" in text and "window opens at" in text, text
        assert "Traceback" not in text


async def test_a_refusal_says_when_the_floridians_window_opens(harness: Harness, agent: Client) -> None:
    key = await lead(agent, "8135550192", zip="33609")
    harness.clock.set(datetime(2026, 5, 5, 20, 30, tzinfo=NEW_YORK))
    text = await refused(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    assert "Florida" in text and "8:00 AM" in text and "8:00 PM" in text and "Wed May 6" in text, text


async def test_the_same_instant_is_open_west_and_closed_east(harness: Harness, agent: Client) -> None:
    west = await lead(agent, "4155550194", state="CA")
    east = await lead(agent, "2125550195", state="NY")
    by_area_code = await lead(agent, "8135550196")  # no address: Florida, from the 813 area code
    harness.clock.set(datetime(2026, 5, 5, 21, 30, tzinfo=NEW_YORK))  # 7:30 PM in Denver, 6:30 PM in SF
    assert not (await send(agent, west)).is_error
    assert "9:00 PM" in await refused(agent, "send_message", {"interaction_id": east, "text": "Hi"})
    assert "Florida" in await refused(agent, "send_message", {"interaction_id": by_area_code, "text": "Hi"})
    assert [sent.to for sent in gateway(harness).outbox] == ["+14155550194"]


async def test_the_fourth_touch_in_24_hours_is_refused_in_florida_not_in_colorado(
    harness: Harness, agent: Client
) -> None:
    florida = await lead(agent, "8135550192", zip="33609")
    colorado = await lead(agent, "3035550191", zip="80210")
    start = datetime(2026, 5, 5, 10, 0, tzinfo=NEW_YORK)
    for touch in range(3):
        harness.clock.set(start + timedelta(hours=touch))
        await ok(agent, "send_message", {"interaction_id": florida, "text": f"Touch {touch + 1}"})
        await ok(agent, "send_message", {"interaction_id": colorado, "text": f"Touch {touch + 1}"})
    harness.clock.set(start + timedelta(hours=3))
    text = await refused(agent, "send_message", {"interaction_id": florida, "text": "Touch 4"})
    assert "3 touches" in text and "limit in Florida is 3" in text and "10:00 AM Wed May 6" in text, text
    await ok(agent, "send_message", {"interaction_id": colorado, "text": "Touch 4"})
    # 24 hours after the first touch, one more may go.
    harness.clock.set(start + timedelta(hours=24))
    await ok(agent, "send_message", {"interaction_id": florida, "text": "Touch 4"})


async def test_a_denver_address_on_a_tampa_phone_gets_floridas_hours_and_cap_too(
    harness: Harness, agent: Client
) -> None:
    """Florida presumes the holder of an 813 number lives there: the address does not lift its rules."""
    key = await lead(agent, "8135550197", zip="80210")
    harness.clock.set(datetime(2026, 5, 5, 18, 30, tzinfo=DENVER))  # 8:30 PM in Tampa
    text = await refused(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    assert "Florida (the phone's area code) allows texts 8:00 AM–8:00 PM" in text, text
    queued = await ok(agent, "get_lead_queue", {})
    item = next(item for item in queued["items"] if item["interaction_id"] == key)
    assert item["can_send_now"] is False
    # Both places are open from 8:00 AM in Denver (10:00 AM in Tampa).
    opens = datetime.fromisoformat(item["send_window_opens_at"])
    assert opens == datetime(2026, 5, 6, 8, 0, tzinfo=DENVER)
    start = datetime(2026, 5, 6, 8, 0, tzinfo=DENVER)
    for touch in range(3):
        harness.clock.set(start + timedelta(hours=touch))
        await ok(agent, "send_message", {"interaction_id": key, "text": f"Touch {touch + 1}"})
    harness.clock.set(start + timedelta(hours=3))
    text = await refused(agent, "send_message", {"interaction_id": key, "text": "Touch 4"})
    assert "limit in Florida is 3" in text, text


@pytest.mark.parametrize(
    "stop", ["STOP", "stop", "Stop", "  STOP  ", "StOp\n", "UNSUBSCRIBE", "stop texting me please"]
)
async def test_a_stop_through_the_gateway_suppresses_and_is_confirmed_once(
    harness: Harness, agent: Client, stop: str
) -> None:
    key = await lead(agent, "3035550191", zip="80210")
    await ok(agent, "send_message", {"interaction_id": key, "text": "Hi Casey"})
    gateway(harness).receive("+13035550191", stop)
    await gateway(harness).deliver_pending()
    outbox = [sent.body for sent in gateway(harness).sent_to("+13035550191")]
    assert len(outbox) == 2 and "unsubscribed" in outbox[1], outbox
    text = await refused(agent, "send_message", {"interaction_id": key, "text": "Are you sure?"})
    assert "opted out" in text
    # A second STOP gets no second confirmation.
    gateway(harness).receive("+13035550191", "STOP")
    await gateway(harness).deliver_pending()
    assert len(gateway(harness).sent_to("+13035550191")) == 2


async def test_dont_stop_is_not_an_opt_out(harness: Harness, agent: Client) -> None:
    key = await lead(agent, "3035550191", zip="80210")
    gateway(harness).receive("+13035550191", "don't stop, I need a plumber")
    await gateway(harness).deliver_pending()
    await ok(agent, "send_message", {"interaction_id": key, "text": "Happy to help!"})
    assert [sent.body for sent in gateway(harness).outbox] == ["Happy to help!"]


async def test_help_is_answered_with_the_help_text(harness: Harness, agent: Client) -> None:
    await lead(agent, "3035550191", zip="80210")
    gateway(harness).receive("+13035550191", "HELP")
    await gateway(harness).deliver_pending()
    [reply] = gateway(harness).outbox
    assert "Peak Home Services" in reply.body and "STOP" in reply.body


@pytest.mark.parametrize("entry", ["tool", "gateway", "voice"])
async def test_no_send_after_an_opt_out_from_any_entry_point(
    harness: Harness, agent: Client, csr: Client, entry: str
) -> None:
    key = await lead(agent, "3035550191", zip="80210")
    if entry == "tool":
        await say(agent, key, "inbound", "Please stop texting me")
    elif entry == "gateway":
        gateway(harness).receive("+13035550191", "leave me alone")
        await gateway(harness).deliver_pending()
    else:
        call = {"interaction_id": key, "direction": "inbound", "duration_seconds": 40}
        await ok(agent, "log_call", {**call, "transcript": "Caller: do not call me again."})
    sent_before = len(gateway(harness).outbox)
    for client in (agent, csr):  # not the AI, and not a person either
        assert "opted out" in await refused(client, "send_message", {"interaction_id": key, "text": "Hi"})
    assert "opted out" in await refused(
        agent, "log_message", {"interaction_id": key, "direction": "outbound", "text": "Hi"}
    )
    outbound_call = {"interaction_id": key, "direction": "outbound", "duration_seconds": 5, "transcript": "x"}
    assert "opted out" in await refused(agent, "log_call", outbound_call)
    assert len(gateway(harness).outbox) == sent_before
    async with harness.engine.connect() as conn:
        row = (await conn.execute(select(suppressions))).mappings().one()
    assert row["phone"] == "+13035550191" and row["active"]


async def test_the_suppression_reaches_a_new_interaction_until_start(harness: Harness, agent: Client) -> None:
    first = await lead(agent, "3035550191", zip="80210")
    await say(agent, first, "inbound", "STOP")
    harness.clock.advance(25 * 3600)  # past the 24 h dedupe: a new lead from the same phone
    harness.clock.set(datetime(2026, 5, 6, 11, 0, tzinfo=DENVER))
    second = await lead(agent, "303-555-0191", zip="80210")
    assert second != first
    assert "opted out" in await refused(agent, "send_message", {"interaction_id": second, "text": "Hi"})
    opted_in = await say(agent, second, "inbound", "START")
    assert opted_in["opted_in"] is True
    await ok(agent, "send_message", {"interaction_id": second, "text": "Welcome back"})


async def test_after_takeover_only_the_person_may_text(harness: Harness, agent: Client, csr: Client) -> None:
    key = await lead(agent, "3035550191", zip="80210")
    await ok(csr, "takeover_interaction", {"interaction_id": key})
    text = await refused(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    assert CSR_NAME in text and "taken over" in text
    sent = await ok(csr, "send_message", {"interaction_id": key, "text": "Hi, Dana here."})
    assert sent["gateway"] == "sandbox" and sent["provider_message_id"]
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert [(t["direction"], t["sender"]) for t in detail["thread"]] == [("outbound", CSR_NAME)]


async def test_a_carrier_unsubscribe_suppresses_the_number(harness: Harness, agent: Client) -> None:
    key = await lead(agent, "3035550191", zip="80210")
    gateway(harness).unsubscribe("+13035550191")
    text = await refused(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    assert "carrier says" in text
    assert "opted out" in await refused(agent, "send_message", {"interaction_id": key, "text": "Hi"})


async def test_a_refused_send_writes_nothing(harness: Harness, agent: Client) -> None:
    key = await lead(agent, "8135550192", zip="33609")
    harness.clock.set(datetime(2026, 5, 5, 22, 0, tzinfo=NEW_YORK))
    before = await ok(agent, "get_interaction", {"interaction_id": key})
    await refused(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    after = await ok(agent, "get_interaction", {"interaction_id": key})
    assert before["thread"] == after["thread"] == [] and gateway(harness).outbox == []


async def test_every_gate_decision_is_audited(harness: Harness, agent: Client) -> None:
    key = await lead(agent, "8135550192", zip="33609")
    harness.clock.set(datetime(2026, 5, 5, 12, 0, tzinfo=NEW_YORK))
    await ok(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    harness.clock.set(datetime(2026, 5, 5, 20, 0, tzinfo=NEW_YORK))
    await refused(agent, "send_message", {"interaction_id": key, "text": "Hi again"})
    async with harness.engine.connect() as conn:
        rows = (await conn.execute(select(audit_events).order_by(audit_events.c.seq))).mappings().all()
    decisions = [(r["kind"], r["tool"], r["outcome"]) for r in rows if r["interaction_id"] == key]
    assert ("compliance", "gate.clear", "ok") in decisions
    assert ("compliance", "gate.quiet_hours", "blocked") in decisions
    assert ("tool_call", "send_message", "blocked") in decisions
    assert all("8135550192" not in r["arguments"] for r in rows)  # phones masked
