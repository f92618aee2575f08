"""The ServiceTitan CRM leads poller against the seeded tenant's Open leads."""

from __future__ import annotations

import pytest
from mcp import Client

from st_mcp.store.schema import interactions
from tests.interactions.conftest import Harness, ok
from tests.outreach.test_send_gate import lead

pytestmark = pytest.mark.anyio


async def test_open_leads_become_interactions_once(harness: Harness, agent: Client) -> None:
    poller = harness.app.lead_poller
    first = await poller.poll_once()
    assert first.seen >= 8 and len(first.ingested) == first.seen and first.unusable == []
    rows = {row["name"]: row for row in await harness.rows(interactions)}
    karen = rows["Karen Whitmore"]
    assert (karen["phone"], karen["zip"], karen["source"], karen["status"]) == (
        "+17205550193",
        "80220",
        "Angi",
        "Started",
    )
    assert karen["servicetitan_lead_id"] is not None and karen["campaign_id"] is not None
    # Colorado Springs is outside the service area: taken in, and dismissed with the reason.
    nina = rows["Nina Petrova"]
    assert nina["status"] == "Dismissed: Agent" and "80905" in nina["status_reason"]
    # A second poll starts at the watermark and takes nothing in twice.
    again = await poller.poll_once()
    assert again.ingested == [] and await harness.count(interactions) == len(rows)


async def test_a_lead_already_texted_by_phone_is_a_duplicate(harness: Harness, agent: Client) -> None:
    await lead(agent, "(720) 555-0193", zip="80220")
    result = await harness.app.lead_poller.poll_once()
    assert result.duplicates == 1
    queue = await ok(agent, "get_lead_queue", {"limit": 50})
    assert sum(item["lead"]["phone"].endswith("0193") for item in queue["items"]) == 1
