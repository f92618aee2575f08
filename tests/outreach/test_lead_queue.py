"""get_lead_queue and the cadence: first touches, replies, follow-ups, the send window, the end."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from mcp import Client

from st_mcp.services.outreach.cadence import CadenceSettings
from tests.interactions.conftest import FIXED_NOW, Harness, ok, say
from tests.outreach.test_send_gate import gateway, lead

pytestmark = pytest.mark.anyio

NEW_YORK = ZoneInfo("America/New_York")


async def queue(client: Client) -> dict[str, object]:
    return await ok(client, "get_lead_queue", {})


async def test_a_new_lead_is_a_first_touch_ready_now(agent: Client) -> None:
    key = await lead(agent, "3035550191", zip="80210", source="Angi", summary="No heat")
    [item] = (await queue(agent))["items"]  # type: ignore[misc]
    assert (item["interaction_id"], item["action"], item["touch_number"]) == (key, "first_touch", 1)
    assert item["can_send_now"] is True and item["send_window_opens_at"] is None
    assert item["lead"]["source"] == "Angi" and item["lead"]["request"] == "No heat"
    assert item["lead"]["phone"] != "+13035550191"  # masked


async def test_a_florida_lead_at_8_30_pm_waits_for_8_am(harness: Harness, agent: Client) -> None:
    harness.clock.set(datetime(2026, 5, 5, 20, 30, tzinfo=NEW_YORK))
    await lead(agent, "8135550192", zip="33609")
    [item] = (await queue(agent))["items"]  # type: ignore[misc]
    assert item["can_send_now"] is False
    opens = datetime.fromisoformat(item["send_window_opens_at"])
    assert opens == datetime(2026, 5, 6, 8, 0, tzinfo=NEW_YORK)
    assert "8:00 AM" in item["waiting"]
    assert "8:30 PM" in item["lead"]["lead_local_time"]


async def test_after_the_first_touch_the_next_is_due_in_five_minutes(harness: Harness, agent: Client) -> None:
    key = await lead(agent, "3035550191", zip="80210")
    await ok(agent, "send_message", {"interaction_id": key, "text": "Hi"})
    waiting = await queue(agent)
    assert waiting["items"] == [] and waiting["upcoming"] == 1
    assert datetime.fromisoformat(str(waiting["next_due_at"])) == FIXED_NOW + timedelta(minutes=5)
    harness.clock.advance(5 * 60)
    [item] = (await queue(agent))["items"]  # type: ignore[misc]
    assert (item["action"], item["touch_number"]) == ("follow_up", 2)


async def test_a_reply_comes_first_and_pauses_the_cadence(harness: Harness, agent: Client) -> None:
    quiet = await lead(agent, "3035550191", zip="80210")
    talking = await lead(agent, "3035550192", zip="80210")
    await ok(agent, "send_message", {"interaction_id": talking, "text": "Hi"})
    harness.clock.advance(60)
    gateway(harness).receive("+13035550192", "Yes please, tomorrow morning?")
    await gateway(harness).deliver_pending()
    items = (await queue(agent))["items"]
    assert [(i["interaction_id"], i["action"]) for i in items] == [(talking, "reply"), (quiet, "first_touch")]
    assert items[0]["lead"]["last_reply"] == "Yes please, tomorrow morning?"
    harness.clock.advance(60)
    await ok(agent, "send_message", {"interaction_id": talking, "text": "Great, 8-10 AM works."})
    assert [i["interaction_id"] for i in (await queue(agent))["items"]] == [quiet]


@pytest.mark.parametrize("ending", ["dismiss", "takeover", "stop"])
async def test_an_ended_conversation_leaves_the_queue(
    harness: Harness, agent: Client, csr: Client, ending: str
) -> None:
    key = await lead(agent, "3035550191", zip="80210")
    if ending == "dismiss":
        await ok(csr, "dismiss_interaction", {"interaction_id": key, "reason": "spam"})
    elif ending == "takeover":
        await ok(csr, "takeover_interaction", {"interaction_id": key})
    else:
        await say(agent, key, "inbound", "STOP")
    assert (await queue(agent))["items"] == []


async def test_silence_through_the_whole_cadence_is_abandoned(harness: Harness, agent: Client) -> None:
    key = await lead(agent, "3035550191", zip="80210")
    start = harness.clock.now()
    for offset in CadenceSettings().touches:
        harness.clock.set(start + offset)
        [item] = (await queue(agent))["items"]  # type: ignore[misc]
        assert item["interaction_id"] == key and item["can_send_now"], item
        await ok(agent, "send_message", {"interaction_id": key, "text": "Still there?"})
    harness.clock.set(start + CadenceSettings().touches[-1] + timedelta(hours=23))
    assert (await queue(agent))["items"] == []
    harness.clock.advance(3600)
    ended = await queue(agent)
    assert ended["abandoned"] == [key]
    assert (await ok(agent, "get_interaction", {"interaction_id": key}))["status"] == "Abandoned"
