"""The takeover lock in one process pair (agent + CSR on one store and tenant): after a person takes a
conversation over, the virtual agent can neither message nor book for that lead, by any route; the
person continues. The two-process version is ``test_takeover_two_processes.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from st_mcp.config import RoleSettings, load_settings
from st_mcp.policy.permissions import ai_roles
from st_mcp.server import create_server
from tests.server.conftest import (
    JORDAN,
    JORDAN_LOCATION,
    JORDAN_OPEN_LEAD,
    PRIYA,
    PRIYA_LOCATION,
    TEST_AGENT_PERMISSIONS,
    booking_args,
    slots_for,
)

from .conftest import CSR_NAME, Harness, ingest, ok, refused, say, written

pytestmark = pytest.mark.anyio

LOCKED = f"{CSR_NAME} has taken over the conversation with"


async def refused_unwritten(harness: Harness, client: Client, tool: str, arguments: dict[str, Any]) -> str:
    before = await written(harness)
    text = await refused(client, tool, arguments)
    assert await written(harness) == before, f"{tool} wrote something although it was refused"
    return text


async def taken_over(agent: Client, csr: Client, **lead: Any) -> str:
    fields = {"name": "Jordan Avery", "phone": "303-555-0142", "zip": "80210", "source": "Website", **lead}
    key = (await ok(agent, "ingest_lead", fields))["interaction_id"]
    await say(agent, key, "outbound", "Hi Jordan, this is Peak Home Services about your furnace.")
    await say(agent, key, "inbound", "Can I talk to a person?")
    result = await ok(csr, "takeover_interaction", {"interaction_id": key})
    assert (result["status"], result["previous_status"]) == ("Takeover", "Active: Hot")
    return str(key)


async def test_the_agent_stops_messaging(harness: Harness, agent: Client, csr: Client) -> None:
    key = await taken_over(agent, csr)
    for arguments in (
        {"interaction_id": key, "direction": "outbound", "text": "Are you still there?"},
        {"phone": "(303) 555-0142", "direction": "outbound", "text": "Are you still there?"},
    ):
        text = await refused_unwritten(harness, agent, "log_message", arguments)
        assert LOCKED in text and key in text and "may not send messages" in text
    text = await refused_unwritten(
        harness,
        agent,
        "log_call",
        {
            "interaction_id": key,
            "direction": "outbound",
            "transcript": "Agent: calling back.",
            "duration_seconds": 5,
        },
    )
    assert LOCKED in text
    text = await refused_unwritten(
        harness,
        agent,
        "escalate_to_dispatcher",
        {"interaction_id": key, "reason": "agent_issue", "note": "Lost track of this one."},
    )
    assert LOCKED in text
    text = await refused_unwritten(
        harness, agent, "update_interaction", {"interaction_id": key, "outcome": "dismissed"}
    )
    assert "A person has taken this conversation over" in text
    text = await refused_unwritten(
        harness, agent, "dismiss_interaction", {"interaction_id": key, "reason": "spam"}
    )
    assert "may not call dismiss_interaction" in text  # no Send Message permission


async def test_the_lock_covers_every_interaction_of_the_phone(
    harness: Harness, agent: Client, csr: Client
) -> None:
    key = await taken_over(agent, csr)
    harness.clock.advance(25 * 3600)  # past the dedupe window: the same phone opens a new interaction
    again = await ingest(agent, "Jordan Avery", "3035550142", zip="80210")
    assert again["duplicate"] is False and again["interaction_id"] != key
    text = await refused_unwritten(
        harness,
        agent,
        "log_message",
        {"interaction_id": again["interaction_id"], "direction": "outbound", "text": "Hi!"},
    )
    assert LOCKED in text and key in text


async def test_the_agent_cannot_book(harness: Harness, agent: Client, csr: Client) -> None:
    key = await taken_over(agent, csr, servicetitan_lead_id=JORDAN_OPEN_LEAD)
    slot = (await slots_for(agent))[0]
    jobs = len(harness.sandbox.jobs)
    attempts = [
        booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=key),
        booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], lead_id=JORDAN_OPEN_LEAD),  # no interaction id
    ]
    for arguments in attempts:
        text = await refused_unwritten(harness, agent, "book_job", arguments)
        assert LOCKED in text and "may not book jobs" in text
    assert len(harness.sandbox.jobs) == jobs

    # The person books: Converted: Human, by them.
    booked = await ok(
        csr, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=key)
    )
    assert len(harness.sandbox.jobs) == jobs + 1
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert detail["status"] == "Converted: Human"
    assert (detail["links"]["job_id"], detail["links"]["customer_id"]) == (booked["job_id"], JORDAN)
    last = detail["status_history"][-1]
    assert (last["from_status"], last["to_status"], last["actor"]) == (
        "Takeover",
        "Converted: Human",
        CSR_NAME,
    )


async def test_the_lock_follows_the_customer_of_a_booked_conversation(
    harness: Harness, agent: Client, csr: Client
) -> None:
    key = (await ingest(agent, "Priya Raman", "720.555.0118", zip="80302"))["interaction_id"]
    slots = await slots_for(agent, zip="80302")
    await ok(agent, "book_job", booking_args(PRIYA, PRIYA_LOCATION, slots[0]["slot_id"], interaction_id=key))
    # Converted → Takeover is allowed: a person handles what comes after the booking.
    result = await ok(csr, "takeover_interaction", {"interaction_id": key})
    assert (result["previous_status"], result["status"]) == ("Converted: Agent", "Takeover")
    # Booking for the same customer without naming the conversation is refused through the customer link.
    text = await refused_unwritten(
        harness, agent, "book_job", booking_args(PRIYA, PRIYA_LOCATION, slots[1]["slot_id"])
    )
    assert LOCKED in text and key in text


async def test_the_person_continues(harness: Harness, agent: Client, csr: Client) -> None:
    key = await taken_over(agent, csr)
    sent = await say(csr, key, "outbound", "Hi Jordan, Dana here. What time suits you?")
    assert sent["status"] == "Takeover"
    await say(agent, key, "inbound", "After 3 please.")  # the platform still logs what the lead writes
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert [(t["direction"], t["sender"]) for t in detail["thread"]][-2:] == [
        ("outbound", CSR_NAME),
        ("inbound", "lead"),
    ]
    assert detail["status"] == "Takeover"
    # A second takeover is refused; the AI may not take over at all.
    assert "already taken over" in await refused(csr, "takeover_interaction", {"interaction_id": key})


async def test_a_stop_during_takeover_is_honoured(harness: Harness, agent: Client, csr: Client) -> None:
    """The lead's STOP is the lead's decision, whoever relays it: it must never be dropped."""
    key = await taken_over(agent, csr)
    result = await say(agent, key, "inbound", "STOP")
    assert (result["status"], result["opted_out"]) == ("Opt-out", True)
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert detail["status"] == "Opt-out" and detail["thread"][-1]["text"] == "STOP"
    assert "opted out" in await refused(
        csr, "log_message", {"interaction_id": key, "direction": "outbound", "text": "?"}
    )


async def test_the_lock_outlives_the_persons_booking(harness: Harness, agent: Client, csr: Client) -> None:
    """Taken over means the person's for good: their booking (Converted: Human) does not hand it back."""
    key = await taken_over(agent, csr)
    slot = (await slots_for(agent))[0]
    await ok(csr, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=key))
    text = await refused_unwritten(
        harness, agent, "log_message", {"interaction_id": key, "direction": "outbound", "text": "Booked!"}
    )
    assert LOCKED in text
    other = (await slots_for(agent))[1]
    text = await refused_unwritten(
        harness,
        agent,
        "book_job",
        booking_args(JORDAN, JORDAN_LOCATION, other["slot_id"], interaction_id=key),
    )
    assert LOCKED in text


async def test_the_lock_reaches_a_booking_by_customer_id_alone(
    harness: Harness, agent: Client, csr: Client
) -> None:
    """A lead taken over before any booking is linked to its customer only by phone: ``book_job`` with the
    customer alone — no interaction_id, no lead_id — is still refused, because booking checks the
    customer's ServiceTitan phone numbers against taken-over conversations."""
    key = await taken_over(agent, csr)  # Jordan's phone, but no lead id and no booking yet
    slot = (await slots_for(agent))[0]
    text = await refused_unwritten(
        harness, agent, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"])
    )
    assert CSR_NAME in text and key in text
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert detail["status"] == "Takeover" and detail["links"]["job_id"] is None


async def test_an_operators_own_ai_role_is_stopped_by_a_takeover_too(
    harness: Harness, agent: Client, csr: Client, tmp_path: Path
) -> None:
    """``ai = true`` on a role an operator defines makes its principals the AI: the takeover lock holds
    for them as for the built-in virtual_agent (a role without the flag is a person's)."""
    key = await taken_over(agent, csr)
    config = tmp_path / "bot.toml"
    config.write_text(
        f"[access.roles.sms_bot]\npermissions = {json.dumps(TEST_AGENT_PERMISSIONS)}\nai = true\n",
        encoding="utf-8",
    )
    environ = {
        "ST_MCP_DATABASE_URL": str(harness.settings.database_url),
        "ST_MCP_ROLE": "sms_bot",
        "ST_MCP_PRINCIPAL": "Acme SMS bot",
    }
    settings = load_settings(config, environ=environ)
    async with Client(create_server(settings, upstream=harness.upstream)) as bot:
        text = await refused_unwritten(harness, bot, "send_message", {"interaction_id": key, "text": "Hi?"})
        assert LOCKED in text and "may not send messages" in text
        slot = (await slots_for(bot, zip="80210"))[0]
        booking = booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=key)
        text = await refused_unwritten(harness, bot, "book_job", booking)
        assert LOCKED in text and "may not book jobs" in text
    roles = settings.access.roles
    assert ai_roles(roles) == {"virtual_agent", "sms_bot"}
    assert ai_roles({"virtual_agent": RoleSettings(permissions=[], ai=False)}) == set()
