"""Bad input to the interaction tools gets a clear error and writes nothing (DESIGN §9).

"Nothing written" compares every row of the interaction tables (and bookings, escalations) and a digest
of every record of the sandbox tenant, before and after the call.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from mcp import Client

from st_mcp.services.interactions.statuses import ALL_STATUSES
from tests.server.conftest import JORDAN, JORDAN_LOCATION, booking_args, slots_for

from .conftest import Harness, ingest, ok, refused, say, store_counts, written

pytestmark = pytest.mark.anyio

MISSING = "int_0000000000000000"


async def refused_cleanly(
    harness: Harness, client: Client, tool: str, arguments: dict[str, Any], *expected: str
) -> str:
    before = await written(harness)
    counts = await store_counts(harness)
    text = await refused(client, tool, arguments)
    assert text.startswith(f"Error executing tool {tool}: "), text
    for fragment in expected:
        assert fragment.casefold() in text.casefold(), f"{fragment!r} not in {text!r}"
    assert await store_counts(harness) == counts
    assert await written(harness) == before, f"{tool} wrote something although it failed"
    return text


async def lead(agent: Client, phone: str = "303-555-0142", **extra: Any) -> str:
    fields = {"zip": "80210", **extra}
    return str((await ingest(agent, "Jordan Avery", phone, **fields))["interaction_id"])


# -- unknown interaction id -------------------------------------------------------------------------------
UNKNOWN_ID_CALLS = [
    ("agent", "log_message", {"interaction_id": MISSING, "direction": "outbound", "text": "Hi"}),
    ("agent", "log_message", {"interaction_id": MISSING, "direction": "inbound", "text": "Hi"}),
    (
        "agent",
        "log_call",
        {"interaction_id": MISSING, "direction": "inbound", "transcript": "Hello?", "duration_seconds": 3},
    ),
    ("agent", "update_interaction", {"interaction_id": MISSING, "summary": "A summary."}),
    ("agent", "update_interaction", {"interaction_id": MISSING, "outcome": "abandoned"}),
    ("csr", "get_interaction", {"interaction_id": MISSING}),
    ("csr", "takeover_interaction", {"interaction_id": MISSING}),
    ("csr", "dismiss_interaction", {"interaction_id": MISSING, "reason": "spam"}),
    (
        "agent",
        "escalate_to_dispatcher",
        {"interaction_id": MISSING, "reason": "human_request", "note": "Wants a person."},
    ),
]


@pytest.mark.parametrize(
    ("who", "tool", "arguments"), UNKNOWN_ID_CALLS, ids=lambda v: v if isinstance(v, str) else ""
)
async def test_unknown_interaction_id(
    harness: Harness, agent: Client, csr: Client, who: str, tool: str, arguments: dict[str, Any]
) -> None:
    await lead(agent)  # something in the store that must stay as it is
    client = agent if who == "agent" else csr
    await refused_cleanly(
        harness, client, tool, arguments, f"No interaction with id '{MISSING}'", "Use list_interactions"
    )


async def test_unknown_interaction_id_in_a_booking(harness: Harness, agent: Client) -> None:
    slot = (await slots_for(agent))[0]
    await refused_cleanly(
        harness,
        agent,
        "book_job",
        booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=MISSING),
        f"No interaction with id '{MISSING}'",
    )


# -- list filters ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["Bogus", "Hot", "Escalated (Bad Mood)", "Converted:Agent"])
async def test_unknown_status_in_a_filter(harness: Harness, agent: Client, status: str) -> None:
    text = await refused_cleanly(
        harness, agent, "list_interactions", {"status": status}, f"unknown status '{status}'"
    )
    for valid in ALL_STATUSES:  # the message lists what is valid
        assert valid in text


@pytest.mark.parametrize(
    "arguments",
    [
        {"goal": "Speed To Leads"},
        {"channel": "Carrier Pigeon"},
        {"type": "Prospect"},
        {"limit": 0},
        {"limit": 101},
        {"since": "yesterday"},
    ],
)
async def test_invalid_filter_values_fail_validation(
    harness: Harness, agent: Client, arguments: dict[str, Any]
) -> None:
    (name,) = arguments
    text = await refused_cleanly(harness, agent, "list_interactions", arguments, name)
    if name == "goal":
        assert all(goal in text for goal in ("Speed to Lead", "Inbound SMS", "Inbound Voice")), text


async def test_unknown_goal_in_stats(harness: Harness, agent: Client) -> None:
    text = await refused_cleanly(harness, agent, "interaction_stats", {"goal": "Outbound"}, "goal")
    assert "Speed to Lead" in text


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "Zm9v",  # base64 of "foo": not JSON
        base64.urlsafe_b64encode(b"42").decode(),  # JSON, not a pair
        base64.urlsafe_b64encode(json.dumps(["yesterday", "int_x"]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps([1, 2, 3]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"a": 1, "b": 2}).encode()).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
async def test_invalid_cursor(harness: Harness, agent: Client, cursor: str) -> None:
    await lead(agent)
    await refused_cleanly(
        harness, agent, "list_interactions", {"cursor": cursor}, "cursor is not valid", "next_cursor exactly"
    )


# -- takeover and dismissal ----------------------------------------------------------------------------------
async def closed_interaction(harness: Harness, agent: Client, csr: Client, status: str) -> str:
    if status == "Dismissed: Agent":
        result = await ingest(agent, "Harold Kessler", "7195550124", zip="80903")  # out of area
        assert result["status"] == status
        return str(result["interaction_id"])
    key = await lead(agent)
    if status == "Dismissed: Human":
        await ok(csr, "dismiss_interaction", {"interaction_id": key, "reason": "Wrong number."})
    elif status == "Opt-out":
        await say(agent, key, "inbound", "STOP")
    else:
        outcome = {"Abandoned": "abandoned", "Failed": "failed", "Terminated": "terminated"}[status]
        await ok(agent, "update_interaction", {"interaction_id": key, "outcome": outcome})
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert detail["status"] == status
    return key


@pytest.mark.parametrize(
    "status", ["Dismissed: Agent", "Dismissed: Human", "Opt-out", "Abandoned", "Failed", "Terminated"]
)
async def test_takeover_of_a_closed_interaction(
    harness: Harness, agent: Client, csr: Client, status: str
) -> None:
    key = await closed_interaction(harness, agent, csr, status)
    await refused_cleanly(
        harness,
        csr,
        "takeover_interaction",
        {"interaction_id": key},
        f"is {status}, which is closed",
        "nothing to take over",
    )


async def test_takeover_twice_and_takeover_after_a_booking(
    harness: Harness, agent: Client, csr: Client
) -> None:
    key = await lead(agent)
    slot = (await slots_for(agent))[0]
    await ok(agent, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=key))
    # Converted → Takeover is allowed by the table: a person handles what comes after a booking.
    result = await ok(csr, "takeover_interaction", {"interaction_id": key})
    assert (result["previous_status"], result["status"]) == ("Converted: Agent", "Takeover")
    await refused_cleanly(harness, csr, "takeover_interaction", {"interaction_id": key}, "already taken over")


async def test_takeover_by_the_ai(harness: Harness, agent: Client) -> None:
    # The virtual agent's role lacks Send Message, so the guard refuses before the service's own check.
    key = await lead(agent)
    await refused_cleanly(
        harness, agent, "takeover_interaction", {"interaction_id": key}, "may not call takeover_interaction"
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "'reason' is required"),
    ],
)
async def test_dismiss_without_a_reason(
    harness: Harness, agent: Client, csr: Client, arguments: dict[str, Any], expected: str
) -> None:
    key = await lead(agent)
    await refused_cleanly(harness, csr, "dismiss_interaction", {"interaction_id": key, **arguments}, expected)


async def test_dismissing_twice(harness: Harness, agent: Client, csr: Client) -> None:
    key = await lead(agent)
    await ok(csr, "dismiss_interaction", {"interaction_id": key, "reason": "Spam."})
    await refused_cleanly(
        harness,
        csr,
        "dismiss_interaction",
        {"interaction_id": key, "reason": "Spam."},
        "'Dismissed: Human' cannot become 'Dismissed: Human'",
    )


# -- messages, calls, updates -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"direction": "outbound", "text": ""}, "text"),
        ({"direction": "outbound", "text": "   "}, "'text' cannot be empty"),
        ({"direction": "inbound", "text": " \n\t "}, "'text' cannot be empty"),
        ({"direction": "sideways", "text": "Hi"}, "direction"),
        ({"direction": "outbound", "text": "Hi", "channel": "fax"}, "channel"),
        ({"direction": "outbound", "text": "x" * 16001}, "at most 16000 characters"),
    ],
)
async def test_bad_messages(
    harness: Harness, agent: Client, arguments: dict[str, Any], expected: str
) -> None:
    key = await lead(agent)
    await refused_cleanly(harness, agent, "log_message", {"interaction_id": key, **arguments}, expected)


async def test_a_message_needs_a_conversation(harness: Harness, agent: Client) -> None:
    await lead(agent)
    await refused_cleanly(
        harness,
        agent,
        "log_message",
        {"direction": "outbound", "text": "Hi"},
        "Give interaction_id, or the lead's phone",
    )
    # Outbound to a number nobody ingested: no interaction is invented for it.
    await refused_cleanly(
        harness,
        agent,
        "log_message",
        {"phone": "303-555-0100", "direction": "outbound", "text": "Hi"},
        "No interaction for +13035550100",
        "ingest_lead",
    )
    await refused_cleanly(
        harness,
        agent,
        "log_message",
        {"phone": "12345", "direction": "inbound", "text": "Hi"},
        "not a US phone number",
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"transcript": "  ", "duration_seconds": 10}, "'transcript' cannot be empty"),
        ({"transcript": "", "duration_seconds": 10}, "transcript"),
        ({"transcript": "Hello", "duration_seconds": -1}, "duration_seconds"),
        ({"transcript": "Hello"}, "duration_seconds"),
    ],
)
async def test_bad_calls(harness: Harness, agent: Client, arguments: dict[str, Any], expected: str) -> None:
    key = await lead(agent)
    await refused_cleanly(
        harness, agent, "log_call", {"interaction_id": key, "direction": "inbound", **arguments}, expected
    )


async def test_nothing_goes_out_after_an_opt_out(harness: Harness, agent: Client, csr: Client) -> None:
    key = await lead(agent)
    await say(agent, key, "outbound", "Hi Jordan, this is Peak Home Services.")
    assert (await say(agent, key, "inbound", "Stop texting me please"))["status"] == "Opt-out"
    for client in (agent, csr):  # the person may not text an opted-out lead either
        sorry = {"interaction_id": key, "direction": "outbound", "text": "Sorry!"}
        await refused_cleanly(harness, client, "log_message", sorry, "opted out of messages", "START")
    call = {
        "interaction_id": key,
        "direction": "outbound",
        "transcript": "Calling back.",
        "duration_seconds": 4,
    }
    await refused_cleanly(harness, agent, "log_call", call, "opted out")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "Give a summary, an outcome, or both"),
        ({"summary": None, "outcome": None}, "Give a summary, an outcome, or both"),
        ({"summary": "   "}, "The summary cannot be empty"),
        ({"outcome": "booked"}, "outcome"),
    ],
)
async def test_bad_updates(harness: Harness, agent: Client, arguments: dict[str, Any], expected: str) -> None:
    key = await lead(agent)
    await refused_cleanly(
        harness, agent, "update_interaction", {"interaction_id": key, **arguments}, expected
    )


async def test_closing_a_closed_conversation(harness: Harness, agent: Client, csr: Client) -> None:
    key = await closed_interaction(harness, agent, csr, "Terminated")
    await refused_cleanly(
        harness,
        agent,
        "update_interaction",
        {"interaction_id": key, "outcome": "abandoned"},
        "'Terminated' cannot become 'Abandoned'",
    )
    await refused_cleanly(
        harness,
        agent,
        "log_message",
        {"interaction_id": key, "direction": "outbound", "text": "Hello?"},
        "does not message closed conversations",
    )


# -- intake ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"name": "Jo", "phone": "12345"}, "not a US phone number"),
        ({"name": "", "phone": "303-555-0142"}, "name"),
        ({"name": "   ", "phone": "303-555-0142"}, "'name' is required"),
        ({"name": "Jo", "phone": "303-555-0142", "zip": "ABCDE"}, "not a US ZIP code"),
        ({"name": "Jo", "phone": "303-555-0142", "state": "Colorado"}, "state"),
        ({"name": "Jo", "phone": "303-555-0142", "campaign_id": 0}, "campaign_id"),
    ],
)
async def test_bad_leads(harness: Harness, agent: Client, arguments: dict[str, Any], expected: str) -> None:
    await refused_cleanly(harness, agent, "ingest_lead", arguments, expected)
