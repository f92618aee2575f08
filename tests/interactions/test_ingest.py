"""Intake and the lead's own words: dedupe on phone (24 h), out-of-area dismissal, campaign attribution,
inbound conversations from unknown numbers, opt-out and opt-in."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from st_mcp.store.schema import interactions, messages

from .conftest import AGENT_NAME, Harness, ingest, ok, say, store_counts

pytestmark = pytest.mark.anyio

HOUR = 3600


def campaign_id(harness: Harness, name: str) -> int:
    (campaign,) = [c for c in harness.sandbox.campaigns.values() if c.name == name]
    return int(campaign.id)


async def test_dedupe_on_phone_within_24_hours(harness: Harness, agent: Client) -> None:
    first = await ingest(agent, "Karen Whitmore", "(720) 555-0193", zip="80220", source="Angi")
    assert (first["duplicate"], first["duplicate_of"], first["status"]) == (False, None, "Started")
    for n, phone in enumerate(
        ["720-555-0193", "7205550193", "+1 720 555 0193", "720.555.0193", "1 (720) 555-0193"]
    ):
        harness.clock.advance(HOUR if n < 4 else 20 * HOUR)  # the last one is exactly 24 h after the first
        again = await ingest(agent, "Karen W.", phone, zip="80220", source="Google LSA")
        assert again["interaction_id"] == first["interaction_id"], phone
        assert (again["duplicate"], again["duplicate_of"]) == (True, first["interaction_id"])
        assert again["campaign_id"] == campaign_id(harness, "Angi")  # the original's, not the new source's
        assert "nothing new was created" in again["note"]
    assert (await store_counts(harness))["interactions"] == 1
    detail = await ok(agent, "get_interaction", {"interaction_id": first["interaction_id"]})
    assert (detail["name"], detail["source"]) == ("Karen Whitmore", "Angi")  # the duplicate changed nothing

    harness.clock.advance(1)  # now more than 24 h after the first
    later = await ingest(agent, "Karen Whitmore", "720-555-0193", zip="80220")
    assert later["duplicate"] is False and later["interaction_id"] != first["interaction_id"]
    assert (await store_counts(harness))["interactions"] == 2


async def test_another_phone_is_another_lead(agent: Client) -> None:
    one = await ingest(agent, "Karen Whitmore", "(720) 555-0193", zip="80220")
    two = await ingest(agent, "Karen Whitmore", "(720) 555-0194", zip="80220")
    assert two["duplicate"] is False and two["interaction_id"] != one["interaction_id"]


async def test_a_duplicate_of_a_dismissed_lead_stays_dismissed(harness: Harness, agent: Client) -> None:
    first = await ingest(agent, "Nina Petrova", "(719) 555-0146", zip="80905")
    again = await ingest(agent, "Nina Petrova", "719-555-0146", zip="80905")
    assert (again["interaction_id"], again["status"], again["duplicate"]) == (
        first["interaction_id"],
        "Dismissed: Agent",
        True,
    )


async def test_out_of_area_zip_is_dismissed_with_the_reason(harness: Harness, agent: Client) -> None:
    result = await ingest(agent, "Nina Petrova", "(719) 555-0146", zip="80905", source="Angi")
    assert result["status"] == "Dismissed: Agent"
    assert result["in_service_area"] is False
    assert "ZIP 80905 is outside the service area" in result["note"]
    assert "Do not contact" in result["note"]
    detail = await ok(agent, "get_interaction", {"interaction_id": result["interaction_id"]})
    (history,) = detail["status_history"]
    assert (history["from_status"], history["to_status"], history["actor"]) == (
        None,
        "Dismissed: Agent",
        AGENT_NAME,
    )
    assert history["reason"] == "ZIP 80905 is outside the service area"
    assert "Dismissed: Agent (ZIP 80905 is outside the service area)." in detail["overview_summary"]
    # The agent does not message a dismissed lead.
    text = await ok_or_error(agent, result["interaction_id"])
    assert "does not message closed conversations" in text

    inside = await ingest(agent, "Jordan Avery", "303-555-0142", zip="80210-1234")
    assert (inside["status"], inside["in_service_area"]) == ("Started", True)
    assert "contact them now" in inside["note"]
    no_zip = await ingest(agent, "Someone", "303-555-0111")
    assert (no_zip["status"], no_zip["in_service_area"]) == ("Started", None)


async def ok_or_error(client: Client, key: str) -> str:
    result = await client.call_tool(
        "log_message", {"interaction_id": key, "direction": "outbound", "text": "Hi"}
    )
    assert result.is_error
    return result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("source", "campaign"),
    [
        ("Angi", "Angi"),
        ("angi", "Angi"),
        ("Google LSA", "Google LSA"),
        ("Thumbtack", "Thumbtack"),
        ("Website", "Website"),
    ],
)
async def test_source_attribution(harness: Harness, agent: Client, source: str, campaign: str) -> None:
    result = await ingest(agent, "Karen Whitmore", "(720) 555-0193", zip="80220", source=source)
    assert result["campaign_id"] == campaign_id(harness, campaign)
    detail = await ok(agent, "get_interaction", {"interaction_id": result["interaction_id"]})
    assert detail["source"] == source


async def test_attribution_without_a_known_source(harness: Harness, agent: Client) -> None:
    unknown = await ingest(agent, "A", "303-555-0111", zip="80210", source="Billboard on I-25")
    assert unknown["campaign_id"] is None
    nothing = await ingest(agent, "B", "303-555-0112", zip="80210")
    assert nothing["campaign_id"] is None
    # An explicit campaign wins over the source.
    explicit = await ingest(
        agent, "C", "303-555-0113", zip="80210", source="Angi", campaign_id=campaign_id(harness, "Thumbtack")
    )
    assert explicit["campaign_id"] == campaign_id(harness, "Thumbtack")


async def test_inbound_text_from_an_unknown_number(harness: Harness, agent: Client) -> None:
    result = await ok(
        agent,
        "log_message",
        {"phone": "(303) 555-0199", "direction": "inbound", "text": "Do you fix water heaters?"},
    )
    assert result["status"] == "Active: Hot"  # the lead wrote just now
    detail = await ok(agent, "get_interaction", {"interaction_id": result["interaction_id"]})
    assert (detail["goal"], detail["channel"], detail["type"], detail["phone"]) == (
        "Inbound SMS",
        "SMS Agent",
        "Lead",
        "+13035550199",
    )
    ((item),) = detail["thread"]
    assert (item["direction"], item["sender"], item["text"]) == (
        "inbound",
        "lead",
        "Do you fix water heaters?",
    )
    assert detail["overview_summary"].startswith("+13035550199 (lead) needs: Do you fix water heaters?")
    # The next text from that number joins the same conversation, in any format.
    harness.clock.advance(60)
    again = await ok(
        agent, "log_message", {"phone": "303.555.0199", "direction": "inbound", "text": "Gas, 40 gal."}
    )
    assert again["interaction_id"] == result["interaction_id"]
    assert (await store_counts(harness))["interactions"] == 1
    # …and so does the agent's answer by phone.
    answer = await ok(
        agent, "log_message", {"phone": "3035550199", "direction": "outbound", "text": "Yes, we do."}
    )
    assert answer["interaction_id"] == result["interaction_id"]


async def test_inbound_call_from_an_unknown_number(harness: Harness, agent: Client) -> None:
    result = await ok(
        agent,
        "log_call",
        {
            "phone": "720-555-0177",
            "direction": "inbound",
            "transcript": "Caller: the breaker keeps tripping.\nAgent: I can book an electrician for you.",
            "duration_seconds": 84,
            "recording_url": "https://recordings.example.com/in-1.mp3",
            "outcome": "qualified",
        },
    )
    detail = await ok(agent, "get_interaction", {"interaction_id": result["interaction_id"]})
    assert (detail["goal"], detail["channel"], detail["phone"]) == (
        "Inbound Voice",
        "Voice Agent",
        "+17205550177",
    )
    ((call),) = detail["thread"]
    assert (call["kind"], call["direction"], call["sender"], call["duration_seconds"]) == (
        "call",
        "inbound",
        "lead",
        84,
    )
    assert (await store_counts(harness))["calls"] == 1


async def test_stop_opts_out_and_start_opts_back_in(harness: Harness, agent: Client) -> None:
    key = (await ingest(agent, "Derek Olsen", "303-555-0107", zip="80304"))["interaction_id"]
    await say(agent, key, "outbound", "Hi Derek, this is Peak Home Services about your drain.")
    stopped = await say(agent, key, "inbound", "STOP")
    assert (stopped["status"], stopped["opted_out"], stopped["opted_in"]) == ("Opt-out", True, False)
    assert "opted out" in stopped["note"]
    # More texts while opted out are logged but change nothing; "stop by tomorrow?" is not a keyword either.
    still = await say(agent, key, "inbound", "who is this?")
    assert (still["status"], still["opted_in"]) == ("Opt-out", False)
    back = await say(agent, key, "inbound", "START")
    assert (back["status"], back["opted_in"], back["opted_out"]) == ("Active: Hot", True, False)
    assert "opted back in" in back["note"]
    sent = await say(agent, key, "outbound", "Welcome back! Still need that drain looked at?")
    assert sent["status"] == "Active: Hot"
    detail = await ok(agent, "get_interaction", {"interaction_id": key})
    assert [(h["from_status"], h["to_status"]) for h in detail["status_history"]] == [
        (None, "Started"),
        ("Started", "Active"),
        ("Active", "Opt-out"),
        ("Opt-out", "Active: Hot"),
    ]
    assert detail["status_history"][2]["reason"] == "lead replied 'STOP'"
    assert [t["text"] for t in detail["thread"]] == [
        "Hi Derek, this is Peak Home Services about your drain.",
        "STOP",
        "who is this?",
        "START",
        "Welcome back! Still need that drain looked at?",
    ]


@pytest.mark.parametrize("text", ["unsubscribe", "Stop texting me please", "leave me alone", "UNSTOP"])
async def test_plain_language_opt_out(agent: Client, text: str) -> None:
    key = (await ingest(agent, "Derek Olsen", "303-555-0107", zip="80304"))["interaction_id"]
    result = await say(agent, key, "inbound", text)
    expected = "Active: Hot" if text == "UNSTOP" else "Opt-out"  # UNSTOP when not opted out is a reply
    assert result["status"] == expected


async def test_not_an_opt_out(agent: Client) -> None:
    key = (await ingest(agent, "Derek Olsen", "303-555-0107", zip="80304"))["interaction_id"]
    for text in ("don't stop, I need a plumber", "stop by tomorrow?", "can you stop the leak"):
        assert (await say(agent, key, "inbound", text))["status"].startswith("Active")


@pytest.mark.parametrize("outcome", ["failed", "terminated"])
async def test_a_stop_after_the_conversation_ended_is_honoured(
    agent: Client, csr: Client, outcome: str
) -> None:
    key = (await ingest(agent, "Derek Olsen", "303-555-0107", zip="80304"))["interaction_id"]
    await ok(agent, "update_interaction", {"interaction_id": key, "outcome": outcome})
    result = await say(agent, key, "inbound", "STOP")
    assert (result["status"], result["opted_out"]) == ("Opt-out", True)
    # Nobody — not even a person — texts them now.
    text = await csr.call_tool("log_message", {"interaction_id": key, "direction": "outbound", "text": "Hi"})
    assert text.is_error and "opted out" in text.content[0].text  # type: ignore[union-attr]


async def test_an_opt_out_on_a_call(harness: Harness, agent: Client) -> None:
    key = (await ingest(agent, "Derek Olsen", "303-555-0107", zip="80304"))["interaction_id"]
    result = await ok(
        agent,
        "log_call",
        {
            "interaction_id": key,
            "direction": "outbound",
            "transcript": "Agent: Hi Derek, calling about your drain.\nDerek: Stop calling me.",
            "duration_seconds": 12,
        },
    )
    assert (result["status"], result["opted_out"]) == ("Opt-out", True)


async def test_every_write_is_committed_before_the_tool_returns(harness: Harness, agent: Client) -> None:
    """Read straight from the database file (another connection) right after each call."""
    key = (await ingest(agent, "Derek Olsen", "303-555-0107", zip="80304"))["interaction_id"]
    assert any(row["id"] == key for row in await harness.rows(interactions))
    await say(agent, key, "inbound", "Hello?")
    assert [row["text"] for row in await harness.rows(messages)] == ["Hello?"]


async def test_the_same_lead_arriving_ten_times_at_once_opens_one_interaction(
    harness: Harness, agent: Client
) -> None:
    """The webhook, the poller and a retrying source deliver one lead at the same moment, through two
    connections: the dedupe and the insert are one step per phone."""
    lead = {"name": "Ana Ruiz", "phone": "(303) 555-0177", "zip": "80210", "source": "Angi"}
    results: list[dict[str, object]] = []

    async with harness.connect() as other:

        async def deliver(client: Client) -> None:
            results.append(await ok(client, "ingest_lead", lead))

        async with anyio.create_task_group() as tg:
            for n in range(10):
                tg.start_soon(deliver, agent if n % 2 else other)
    assert await harness.count(interactions) == 1
    assert len({result["interaction_id"] for result in results}) == 1
    assert sum(1 for result in results if not result["duplicate"]) == 1
