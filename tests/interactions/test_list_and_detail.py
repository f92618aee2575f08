"""``list_interactions`` (filters, search, cursor pagination, masked phones) and ``get_interaction``
(header links, Overview Summary, thread, status history), through a real in-memory MCP client."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from mcp import Client

from tests.server.conftest import JORDAN, JORDAN_LOCATION, JORDAN_OPEN_LEAD, booking_args, slots_for

from .conftest import AGENT_NAME, CSR_NAME, FIXED_NOW, Harness, ingest, insert_interaction, ok, say

pytestmark = pytest.mark.anyio

MASKED = re.compile(r"^\(\d{3}\) \*\*\*-\d{4}$")
# Any unmasked US number: +1XXXXXXXXXX, 10 digits in a row, or (XXX) XXX-XXXX / XXX-XXX-XXXX.
UNMASKED = re.compile(r"\+1\d{10}|\b\d{10}\b|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")


async def listed(client: Client, **arguments: Any) -> dict[str, Any]:
    return await ok(client, "list_interactions", arguments)


async def ids(client: Client, **arguments: Any) -> set[str]:
    page = await listed(client, limit=100, **arguments)
    assert page["total_matching"] == len(page["items"])
    return {item["interaction_id"] for item in page["items"]}


async def populate(harness: Harness, agent: Client) -> dict[str, str]:
    """Eight conversations in different states, one minute apart; returns their ids by name."""
    got: dict[str, str] = {}

    def tick() -> None:
        harness.clock.advance(60)

    karen = await ingest(
        agent,
        "Karen Whitmore",
        "(720) 555-0193",
        zip="80220",
        source="Angi",
        summary="Furnace makes a loud bang when it starts, then no heat.",
    )
    got["karen"] = karen["interaction_id"]
    tick()
    await say(agent, got["karen"], "outbound", "Hi Karen, this is Peak Home Services about your furnace.")
    tick()
    await say(agent, got["karen"], "inbound", "Yes please, can someone come tomorrow?")
    tick()
    derek = await ingest(
        agent,
        "Derek Olsen",
        "303-555-0107",
        zip="80304",
        source="Google LSA",
        summary="Kitchen sink and dishwasher both draining slowly.",
    )
    got["derek"] = derek["interaction_id"]
    tick()
    nina = await ingest(agent, "Nina Petrova", "(719) 555-0146", zip="80905", source="Angi")
    got["nina"] = nina["interaction_id"]
    tick()
    priya = await ingest(agent, "Priya Raman", "720.555.0118", zip="80302", source="Website")
    got["priya"] = priya["interaction_id"]
    await ok(
        agent,
        "escalate_to_dispatcher",
        {"interaction_id": got["priya"], "reason": "human_request", "note": "Wants to talk to a person."},
    )
    tick()
    greg = await ingest(
        agent,
        "Greg Hollis",
        "7205550156",
        zip="80209",
        source="Google LSA",
        summary="Garage door spring broke, car is stuck inside.",
    )
    got["greg"] = greg["interaction_id"]
    await ok(
        agent,
        "escalate_to_dispatcher",
        {"interaction_id": got["greg"], "reason": "availability", "note": "Needs someone today."},
    )
    tick()
    texted = await ok(
        agent,
        "log_message",
        {"phone": "303-555-0199", "direction": "inbound", "text": "Do you fix water heaters?"},
    )
    got["texter"] = texted["interaction_id"]
    tick()
    called = await ok(
        agent,
        "log_call",
        {
            "phone": "303-555-0188",
            "direction": "inbound",
            "transcript": "Caller: my breaker keeps tripping.\nAgent: I can book an electrician.",
            "duration_seconds": 80,
        },
    )
    got["caller"] = called["interaction_id"]
    tick()
    jordan = await ingest(agent, "Jordan Avery", "303-555-0142", zip="80210", source="Website")
    got["jordan"] = jordan["interaction_id"]
    slot = (await slots_for(agent))[0]
    booked = await ok(
        agent,
        "book_job",
        booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=got["jordan"]),
    )
    got["job_number"] = booked["job_number"]
    tick()
    return got


async def test_filters(harness: Harness, agent: Client) -> None:
    got = await populate(harness, agent)
    everyone = {v for k, v in got.items() if k != "job_number"}
    assert await ids(agent) == everyone

    # Status: exact words, a whole group, any case.
    # An inbound call is a reply too, so the caller's conversation is as hot as the texter's.
    assert await ids(agent, status="Active") == {got["karen"], got["texter"], got["caller"]}
    assert await ids(agent, status="active: hot") == {got["karen"], got["texter"], got["caller"]}
    assert await ids(agent, status="Active: Cold") == set()
    assert await ids(agent, status="Escalated") == {got["priya"], got["greg"]}
    assert await ids(agent, status="Escalated (Availability)") == {got["greg"]}
    assert await ids(agent, status="Started") == {got["derek"]}
    assert await ids(agent, status="Dismissed") == {got["nina"]}
    assert await ids(agent, status="Dismissed: Human") == set()
    assert await ids(agent, status="Converted: Agent") == {got["jordan"]}
    # Goal, channel, type.
    assert await ids(agent, goal="Inbound SMS") == {got["texter"]}
    assert await ids(agent, goal="Inbound Voice") == {got["caller"]}
    assert await ids(agent, goal="Speed to Lead") == everyone - {got["texter"], got["caller"]}
    assert await ids(agent, channel="Voice Agent") == {got["caller"]}
    assert await ids(agent, channel="SMS Agent") == everyone - {got["caller"]}
    assert await ids(agent, type="Lead") == everyone
    assert await ids(agent, type="Customer") == set()
    # Escalated only, alone and with a status.
    assert await ids(agent, escalated_only=True) == {got["priya"], got["greg"]}
    assert await ids(agent, escalated_only=True, status="Escalated (Human Request)") == {got["priya"]}
    assert await ids(agent, escalated_only=True, status="Active") == set()
    # Combined filters narrow.
    assert await ids(agent, goal="Speed to Lead", status="Started") == {got["derek"]}


async def test_type_filter(harness: Harness, agent: Client) -> None:
    await ingest(agent, "New Lead", "303-555-0101", zip="80210")
    customer = await insert_interaction(harness, id="int_customer", type="Customer", status="Active: Warm")
    assert await ids(agent, type="Customer") == {customer}
    assert customer not in await ids(agent, type="Lead")


async def test_time_range(harness: Harness, agent: Client) -> None:
    got = await populate(harness, agent)
    start = FIXED_NOW
    # Received: karen t0, derek t0+3m, nina +4m, priya +5m, greg +6m, texter +7m, caller +8m, jordan +9m.
    since = (start + timedelta(minutes=5)).isoformat()
    until = (start + timedelta(minutes=8)).isoformat()
    assert await ids(agent, since=since) == {got[k] for k in ("priya", "greg", "texter", "caller", "jordan")}
    assert await ids(agent, until=until) == {
        got[k] for k in ("karen", "derek", "nina", "priya", "greg", "texter")
    }
    assert await ids(agent, since=since, until=until) == {got[k] for k in ("priya", "greg", "texter")}
    # The same instants in Denver time.
    local_since = "2026-05-05T10:35:00-06:00"
    assert await ids(agent, since=local_since) == await ids(agent, since=since)
    assert await ids(agent, since="2026-05-05T16:35:00") == await ids(agent, since=since)  # naive = UTC
    assert await ids(agent, since=until, until=since) == set()


async def test_search(harness: Harness, agent: Client) -> None:
    got = await populate(harness, agent)
    cases = {
        "karen": {got["karen"]},
        "WHITMORE": {got["karen"]},
        "7205550193": {got["karen"]},
        "0193": {got["karen"]},
        "+17205550193": {got["karen"]},
        "(720) 555-0193": {got["karen"]},
        "720-555-0193": {got["karen"]},
        "loud bang": {got["karen"]},
        "DISHWASHER": {got["derek"]},
        "google lsa": {got["derek"], got["greg"]},
        "Angi": {got["karen"], got["nina"]},
        "website": {got["priya"], got["jordan"]},
        got["job_number"]: {got["jordan"]},
        "nobody by that name": set(),
    }
    for text, expected in cases.items():
        assert await ids(agent, search=text) == expected, text
    # Search combines with the other filters.
    assert await ids(agent, search="google lsa", escalated_only=True) == {got["greg"]}


async def test_phones_are_masked_in_lists(harness: Harness, agent: Client) -> None:
    await populate(harness, agent)
    page = await listed(agent, limit=100)
    assert len(page["items"]) == 8
    for item in page["items"]:
        assert MASKED.match(item["phone"]), item
    text = json.dumps(page)
    assert not UNMASKED.search(text), f"an unmasked phone number in the list: {UNMASKED.search(text)}"
    # The full number is in the detail view, for the CSR who opens one.
    detail = await ok(agent, "get_interaction", {"interaction_id": page["items"][0]["interaction_id"]})
    assert detail["phone"].startswith("+1") and len(detail["phone"]) == 12


async def test_pagination(harness: Harness, agent: Client) -> None:
    created: list[tuple[str, str]] = []  # (last activity, id)
    for n in range(30):
        if n and n % 3 == 0:
            harness.clock.advance(60)  # three at a time share one instant: ties broken by id
        lead = await ingest(agent, f"Lead {n:02d}", f"(720) 555-{2000 + n:04d}", zip="80210")
        created.append((harness.clock.now().isoformat(), lead["interaction_id"]))
    expected = [key for _, key in sorted(created, reverse=True)]

    async def walk(limit: int, **filters: Any) -> list[str]:
        seen: list[str] = []
        cursor = None
        for _ in range(50):
            page = await listed(agent, limit=limit, cursor=cursor, **filters)
            assert page["total_matching"] == len(expected)
            assert len(page["items"]) <= limit
            seen += [item["interaction_id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen
            assert len(page["items"]) == limit, "only the last page may be short"
        raise AssertionError("pagination never ended")

    seen = await walk(7)
    assert len(seen) == len(set(seen)) == 30, "no duplicates, no gaps"
    assert seen == expected, "newest activity first, ties by id"
    assert await walk(30) == expected  # exactly one full page: no cursor afterwards
    assert await walk(100) == expected
    first = await listed(agent, limit=30)
    assert first["next_cursor"] is None

    # New activity moves a conversation to the top.
    oldest = expected[-1]
    harness.clock.advance(60)
    await say(agent, oldest, "outbound", "Hi, this is Peak Home Services.")
    expected = [oldest, *expected[:-1]]
    assert await walk(7) == expected

    # Pagination under a filter: only the ten touched conversations are Active.
    touched = expected[10:20]
    for key in touched:
        harness.clock.advance(1)
        await say(agent, key, "outbound", "Following up about your request.")
    active = [*reversed(touched), oldest]
    expected = active
    assert await walk(4, status="Active") == active


async def test_detail_after_a_booking(harness: Harness, agent: Client, csr: Client) -> None:
    lead = await ingest(
        agent,
        "Jordan Avery",
        "303-555-0142",
        zip="80210",
        source="Website",
        email="jordan.avery@example.com",
        street="1420 S Pearl St",
        city="Denver",
        state="co",
        summary="Furnace blowing cold air",
        servicetitan_lead_id=JORDAN_OPEN_LEAD,
    )
    key = lead["interaction_id"]
    first = await ok(agent, "get_interaction", {"interaction_id": key})
    assert first["summary_written_by"] == "generated"
    assert first["overview_summary"] == (
        "Jordan Avery (lead via Website) needs: Furnace blowing cold air. Not contacted yet. "
        "Pending: an open appointment to be offered and booked."
    )
    assert first["address"] == "1420 S Pearl St, Denver, CO, 80210"
    assert first["thread"] == [] and first["links"]["job_id"] is None

    harness.clock.advance(60)
    await say(agent, key, "outbound", "Hi Jordan, this is Peak Home Services about your furnace.")
    harness.clock.advance(60)
    await say(agent, key, "inbound", "Yes, tomorrow morning works.")
    harness.clock.advance(60)
    await ok(
        agent,
        "log_call",
        {
            "interaction_id": key,
            "direction": "outbound",
            "transcript": "Agent: Shall I book 8-10 AM?\nJordan: Yes.",
            "duration_seconds": 95,
            "recording_url": "https://recordings.example.com/call-1.mp3",
            "outcome": "booked",
        },
    )
    middle = await ok(agent, "get_interaction", {"interaction_id": key})
    summary = middle["overview_summary"]
    assert summary.startswith("Jordan Avery (lead via Website) needs: Furnace blowing cold air.")  # who, what
    assert "1 message(s) sent, 1 received, 1 call(s)." in summary  # what happened
    assert "Conversation in progress." in summary
    assert summary.endswith("Pending: an open appointment to be offered and booked.")  # what is pending

    harness.clock.advance(60)
    slot = (await slots_for(agent))[0]
    booked = await ok(
        agent, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=key)
    )
    after = await ok(agent, "get_interaction", {"interaction_id": key})
    assert after["status"] == "Converted: Agent"
    assert after["links"] == {
        "servicetitan_lead_id": JORDAN_OPEN_LEAD,
        "customer_id": JORDAN,
        "location_id": JORDAN_LOCATION,
        "job_id": booked["job_id"],
        "job_number": booked["job_number"],
    }
    assert f"Booked job {booked['job_number']}." in after["overview_summary"]
    assert "Pending" not in after["overview_summary"]
    assert harness.sandbox.jobs[booked["job_id"]].customer_id == JORDAN

    # The agent's own summary replaces the generated one, in the detail and in the list.
    written = "Jordan Avery: furnace blowing cold air; booked Wed 8–10 AM (job {}).".format(
        booked["job_number"]
    )
    updated = await ok(agent, "update_interaction", {"interaction_id": key, "summary": f"  {written}  "})
    assert (updated["status"], updated["previous_status"]) == ("Converted: Agent", "Converted: Agent")
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert (detail["overview_summary"], detail["summary_written_by"]) == (written, "agent")
    (row,) = (await listed(csr, search="jordan"))["items"]
    assert row["summary"] == written

    # A CSR takes over and writes; the thread names them.
    harness.clock.advance(60)
    await ok(
        csr, "takeover_interaction", {"interaction_id": key, "note": "Customer asked about a membership."}
    )
    harness.clock.advance(60)
    await say(csr, key, "outbound", "Hi Jordan, Dana here from Peak Home. I can help with the membership.")
    final = await ok(csr, "get_interaction", {"interaction_id": key})
    assert final["taken_over_by"] == CSR_NAME
    thread = final["thread"]
    assert [(t["kind"], t["direction"], t["sender"]) for t in thread] == [
        ("message", "outbound", "agent"),
        ("message", "inbound", "lead"),
        ("call", "outbound", "agent"),
        ("message", "outbound", CSR_NAME),
    ]
    assert [t["at"] for t in thread] == sorted(t["at"] for t in thread)
    assert thread[1]["text"] == "Yes, tomorrow morning works."
    call = thread[2]
    assert (call["duration_seconds"], call["recording_url"], call["outcome"]) == (
        95,
        "https://recordings.example.com/call-1.mp3",
        "booked",
    )
    assert call["text"].startswith("Agent: Shall I book")
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in final["status_history"]] == [
        (None, "Started", AGENT_NAME),
        ("Started", "Active", AGENT_NAME),
        ("Active", "Active: Hot", AGENT_NAME),
        ("Active: Hot", "Converted: Agent", AGENT_NAME),
        ("Converted: Agent", "Takeover", CSR_NAME),
    ]
    assert final["status_history"][3]["reason"] == f"booked job {booked['job_number']}"
    assert final["status_history"][4]["reason"] == "Customer asked about a membership."
    assert final["last_activity_at"] > after["last_activity_at"]


async def test_generated_summary_of_a_takeover_and_an_escalation(
    harness: Harness, agent: Client, csr: Client
) -> None:
    lead = await ingest(agent, "Karen Whitmore", "(720) 555-0193", zip="80220", source="Angi")
    key = lead["interaction_id"]
    await say(agent, key, "inbound", "The furnace makes a loud bang, then no heat.")
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    # No request came with the lead: the first thing they wrote is what they need.
    assert detail["overview_summary"].startswith(
        "Karen Whitmore (lead via Angi) needs: The furnace makes a loud bang, then no heat."
    )
    await ok(
        agent,
        "escalate_to_dispatcher",
        {"interaction_id": key, "reason": "negative_sentiment", "note": "Upset about the noise."},
    )
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert "Escalated (Negative Sentiment) (Upset about the noise.)." in detail["overview_summary"]
    assert detail["overview_summary"].endswith("Pending: a dispatcher to call back.")
    await ok(csr, "takeover_interaction", {"interaction_id": key})
    detail = await ok(csr, "get_interaction", {"interaction_id": key})
    assert f"Taken over by {CSR_NAME}." in detail["overview_summary"]
    assert detail["overview_summary"].endswith(f"Pending: {CSR_NAME} to continue.")
    assert detail["status_history"][-1]["reason"] == f"taken over by {CSR_NAME}"
