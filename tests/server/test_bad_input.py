"""Bad input gets a clear error, never a traceback or a half-written record (DESIGN §9).

Every case checks three things: the result is an ``isError`` result, its message names the problem and a
next step, and nothing was written — neither to the ServiceTitan tenant (a digest of every sandbox record,
plus counts) nor to the local store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from mcp import Client

from .conftest import (
    GLORIA,
    GLORIA_LOCATION,
    HAROLD,
    HAROLD_LOCATION,
    JORDAN,
    JORDAN_LOCATION,
    PRIYA,
    PRIYA_LOCATION,
    Harness,
    booking_args,
    ok,
    refused,
    slots_for,
)

pytestmark = pytest.mark.anyio

MISSING_JOB = 40199999
MISSING_CUSTOMER = 10399999
MISSING_LOCATION = 10699999
NEW_CALLER = {
    "name": "Casey Jordan",
    "phone": "303-555-0111",
    "street": "77 S Gaylord St",
    "city": "Denver",
    "state": "CO",
    "zip": "80209",
}


async def refused_cleanly(
    harness: Harness, client: Client, tool: str, arguments: dict[str, Any], *expected: str
) -> str:
    before = await harness.written_state()
    text = await refused(client, tool, arguments)
    assert text.startswith(f"Error executing tool {tool}: ")
    for fragment in expected:
        assert fragment.casefold() in text.casefold(), f"{fragment!r} not in {text!r}"
    assert await harness.written_state() == before, f"{tool} wrote something although it failed"
    return text


def flip(text: str, index: int) -> str:
    """The same string with one character changed (still a valid base64url character)."""
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


# -- lookup_customer ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, ["Give a phone, a name or an e-mail"]),
        ({"phone": "", "name": "", "email": ""}, ["Give a phone, a name or an e-mail"]),
        ({"phone": "12345"}, ["'12345' is not a US phone number", "(303) 555-0142"]),
        ({"phone": "abc"}, ["'abc' is not a US phone number", "10-digit"]),
        ({"phone": "+44 20 7946 0958"}, ["is not a US phone number"]),
        ({"email": "jordan.avery"}, ["'jordan.avery' is not an e-mail address"]),
    ],
)
async def test_lookup_customer(
    harness: Harness, client: Client, arguments: dict[str, Any], expected: list[str]
) -> None:
    await refused_cleanly(harness, client, "lookup_customer", arguments, *expected)


# -- create_customer ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"state": "ZZ"}, ["'ZZ' is not a US state", "two-letter state"]),
        ({"state": "Colorado"}, ["state", "at most 2 characters"]),
        ({"zip": "8021"}, ["'8021' is not a US ZIP code", "5-digit ZIP"]),
        ({"zip": "abcde"}, ["is not a US ZIP code"]),
        ({"phone": "12345"}, ["'12345' is not a US phone number"]),
        ({"phone": "abc"}, ["is not a US phone number"]),
        ({"name": "   "}, ["'name' is required"]),
        ({"street": " "}, ["'street' is required"]),
        ({"city": ""}, ["city: must not be empty"]),
        ({"zip": None}, ["zip"]),
    ],
)
async def test_create_customer(
    harness: Harness, client: Client, change: dict[str, Any], expected: list[str]
) -> None:
    arguments = {k: v for k, v in {**NEW_CALLER, **change}.items() if v is not None}
    await refused_cleanly(harness, client, "create_customer", arguments, *expected)


# -- get_available_slots ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"job_type": "Roof Repair", "zip": "80210"},
            [
                "Unknown job type 'Roof Repair'",
                "Heating Repair",
                "Drain Cleaning",
                "no heat",
                "escalate_to_dispatcher",
            ],
        ),
        ({"job_type": "Duct Cleaning", "zip": "80210"}, ["Unknown job type 'Duct Cleaning'"]),  # inactive
        ({"job_type": "9999999", "zip": "80210"}, ["Unknown job type"]),
        ({"job_type": "Heating Repair"}, ["Give location_id", "zip"]),
        ({"job_type": "Heating Repair", "zip": "80907"}, ["ZIP 80907 is outside the service area"]),
        (
            {"job_type": "Heating Repair", "location_id": HAROLD_LOCATION},
            ["ZIP 80903 is outside the service area"],
        ),
        (
            {"job_type": "Heating Repair", "location_id": MISSING_LOCATION},
            ["No location with id", "lookup_customer"],
        ),
        ({"job_type": "Heating Repair", "zip": "12"}, ["'12' is not a US ZIP code"]),
        (
            {
                "job_type": "Heating Repair",
                "zip": "80210",
                "earliest": "2026-04-01T08:00:00-06:00",
                "latest": "2026-04-02T08:00:00-06:00",
            },
            ["'latest' must be after 'earliest' (and in the future)"],
        ),
        (
            {
                "job_type": "Heating Repair",
                "zip": "80210",
                "earliest": "2026-05-09T08:00:00-06:00",
                "latest": "2026-05-08T08:00:00-06:00",
            },
            ["'latest' must be after 'earliest'"],
        ),
        ({"job_type": "Heating Repair", "zip": "80210", "max_slots": 0}, ["max_slots"]),
        ({"job_type": "Heating Repair", "zip": "80210", "urgency": "whenever"}, ["urgency", "emergency"]),
        ({"job_type": "", "zip": "80210"}, ["job_type"]),
    ],
)
async def test_get_available_slots(
    harness: Harness, client: Client, arguments: dict[str, Any], expected: list[str]
) -> None:
    await refused_cleanly(harness, client, "get_available_slots", arguments, *expected)


async def test_get_available_slots_where_no_team_does_that_job(harness: Harness, client: Client) -> None:
    """Not an error, but no windows either: the Tampa branch has no plumbers, and says so."""
    offer = await ok(client, "get_available_slots", {"job_type": "Drain Cleaning", "zip": "33606"})
    assert offer["slots"] == []
    assert "No Drain Cleaning team serves ZIP 33606" in offer["explanation"]
    assert "escalate_to_dispatcher" in offer["explanation"]


# -- book_job -----------------------------------------------------------------------------------------------
SlotCase = Callable[[dict[str, Any]], dict[str, Any]]

BOOKING_CASES: list[tuple[str, SlotCase, list[str]]] = [
    (
        "forged slot",
        lambda s: booking_args(JORDAN, JORDAN_LOCATION, "slot1.eyJzdGFydCI6MX0.AAAAAAAAAAAAAAAAAAAAAAAA"),
        ["not one this server issued", "exactly as returned by get_available_slots"],
    ),
    (
        "invented slot",
        lambda s: booking_args(JORDAN, JORDAN_LOCATION, "Tue 2-4pm"),
        ["not one this server issued"],
    ),
    (
        "tampered window",
        lambda s: booking_args(JORDAN, JORDAN_LOCATION, flip(s["slot_id"], 30)),
        ["not one this server issued"],
    ),
    (
        "tampered signature",
        lambda s: booking_args(JORDAN, JORDAN_LOCATION, flip(s["slot_id"], len(s["slot_id"]) - 1)),
        ["not one this server issued"],
    ),
    (
        "unknown customer",
        lambda s: booking_args(MISSING_CUSTOMER, JORDAN_LOCATION, s["slot_id"]),
        [f"No customer with id {MISSING_CUSTOMER}", "lookup_customer", "create_customer"],
    ),
    (
        "another customer's location",
        lambda s: booking_args(JORDAN, PRIYA_LOCATION, s["slot_id"]),
        [f"Location {PRIYA_LOCATION} is not a location of customer {JORDAN}"],
    ),
    (
        "unknown location",
        lambda s: booking_args(PRIYA, MISSING_LOCATION, s["slot_id"]),
        [f"Location {MISSING_LOCATION} is not a location of customer {PRIYA}"],
    ),
    (
        "do-not-service customer",
        lambda s: booking_args(GLORIA, GLORIA_LOCATION, s["slot_id"]),
        ["Gloria Pruitt is marked do-not-service", "escalate_to_dispatcher"],
    ),
    (
        "out-of-area location",
        lambda s: booking_args(HAROLD, HAROLD_LOCATION, s["slot_id"]),
        ["ZIP 80903 is outside the service area"],
    ),
    (
        "empty summary",
        lambda s: {**booking_args(JORDAN, JORDAN_LOCATION, s["slot_id"]), "summary": ""},
        ["summary: must not be empty"],
    ),
    (
        "blank summary",
        lambda s: {**booking_args(JORDAN, JORDAN_LOCATION, s["slot_id"]), "summary": "   "},
        ["'summary' is required"],
    ),
    (
        "bad priority",
        lambda s: booking_args(JORDAN, JORDAN_LOCATION, s["slot_id"], priority="ASAP"),
        ["priority"],
    ),
    (
        "unknown lead",
        lambda s: booking_args(JORDAN, JORDAN_LOCATION, s["slot_id"], lead_id=999),
        ["No ServiceTitan lead with id 999", "Leave lead_id out"],
    ),
    (
        "blank idempotency key",
        lambda s: booking_args(JORDAN, JORDAN_LOCATION, s["slot_id"], idempotency_key="  "),
        ["idempotency_key must be 1–200 characters"],
    ),
    (
        "zero customer id",
        lambda s: booking_args(0, JORDAN_LOCATION, s["slot_id"]),
        ["customer_id", "greater than 0"],
    ),
]


@pytest.mark.parametrize(("case", "build", "expected"), BOOKING_CASES, ids=[c[0] for c in BOOKING_CASES])
async def test_book_job(
    harness: Harness, client: Client, case: str, build: SlotCase, expected: list[str]
) -> None:
    slot = (await slots_for(client))[0]
    await refused_cleanly(harness, client, "book_job", build(slot), *expected)


async def test_book_job_with_a_slot_offered_for_another_branch(harness: Harness, client: Client) -> None:
    tampa = (await slots_for(client, zip="33606"))[0]  # HVAC - Tampa's window, not Denver's
    await refused_cleanly(
        harness,
        client,
        "book_job",
        booking_args(JORDAN, JORDAN_LOCATION, tampa["slot_id"]),
        "offered for ZIP 33606",
        "get_available_slots with this location_id",
    )


async def test_book_job_with_an_expired_slot(harness: Harness, client: Client) -> None:
    slot = (await slots_for(client))[-1]
    ttl = harness.settings.booking.slot_ttl_minutes
    harness.clock.advance((ttl + 1) * 60)
    assert harness.clock.now() < datetime.fromisoformat(slot["start_utc"]), "the window itself is still ahead"
    await refused_cleanly(
        harness,
        client,
        "book_job",
        booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]),
        "slot_id has expired",
        "get_available_slots again",
    )


async def test_book_job_for_a_window_that_has_started(harness: Harness, client: Client) -> None:
    # Offer the earliest window 45 minutes before it starts, then let it start (the slot is still valid).
    start = datetime.fromisoformat((await slots_for(client))[0]["start_utc"])
    harness.clock.set(start - timedelta(minutes=45))
    slot = next(s for s in await slots_for(client) if datetime.fromisoformat(s["start_utc"]) == start)
    harness.clock.set(start + timedelta(minutes=5))
    await refused_cleanly(
        harness,
        client,
        "book_job",
        booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]),
        "already started or passed",
        "get_available_slots",
    )


# -- reschedule_job and cancel_job --------------------------------------------------------------------------
@pytest.fixture
async def canceled_job(client: Client) -> dict[str, Any]:
    slot = (await slots_for(client))[0]
    booked = await ok(client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]))
    await ok(client, "cancel_job", {"job_id": booked["job_id"], "reason": "No longer needed"})
    return booked


async def test_cancel_an_already_canceled_job(
    harness: Harness, client: Client, canceled_job: dict[str, Any]
) -> None:
    await refused_cleanly(
        harness,
        client,
        "cancel_job",
        {"job_id": canceled_job["job_id"], "reason": "Again"},
        f"Job {canceled_job['job_number']} is already Canceled",
    )


async def test_reschedule_a_canceled_job(
    harness: Harness, client: Client, canceled_job: dict[str, Any]
) -> None:
    slot = (await slots_for(client))[1]
    await refused_cleanly(
        harness,
        client,
        "reschedule_job",
        {"job_id": canceled_job["job_id"], "slot_id": slot["slot_id"]},
        f"Job {canceled_job['job_number']} is Canceled",
        "only scheduled jobs can be moved",
        "escalate_to_dispatcher",
    )


async def test_reschedule_job(harness: Harness, client: Client) -> None:
    sandbox = harness.sandbox
    heating = (await slots_for(client))[0]
    drains = (await slots_for(client, job_type="Drain Cleaning"))[0]
    tampa = (await slots_for(client, zip="33606"))[0]  # Heating Repair too, but HVAC - Tampa's window
    booked = await ok(client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, heating["slot_id"]))
    dispatched = min(a.job_id for a in sandbox.appointments.values() if a.status == "Dispatched")
    completed = min(j.id for j in sandbox.jobs.values() if j.status == "Completed")

    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"job_id": MISSING_JOB, "slot_id": heating["slot_id"]}, [f"No job with id {MISSING_JOB}"]),
        (
            {"job_id": booked["job_id"], "slot_id": flip(heating["slot_id"], 25)},
            ["not one this server issued"],
        ),
        (
            {"job_id": booked["job_id"], "slot_id": drains["slot_id"]},
            ["different job type", "get_available_slots"],
        ),
        (
            {"job_id": booked["job_id"], "slot_id": tampa["slot_id"]},
            ["offered for ZIP 33606", "get_available_slots"],
        ),
        ({"job_id": dispatched, "slot_id": heating["slot_id"]}, ["is Dispatched", "escalate_to_dispatcher"]),
        ({"job_id": completed, "slot_id": heating["slot_id"]}, ["is Completed"]),
        ({"job_id": booked["job_id"], "slot_id": ""}, ["slot_id"]),
    ]
    for arguments, expected in cases:
        await refused_cleanly(harness, client, "reschedule_job", arguments, *expected)


async def test_cancel_job(harness: Harness, client: Client) -> None:
    completed = min((j for j in harness.sandbox.jobs.values() if j.status == "Completed"), key=lambda j: j.id)
    scheduled = min(j.id for j in harness.sandbox.jobs.values() if j.status == "Scheduled")
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"job_id": MISSING_JOB, "reason": "x"}, [f"No job with id {MISSING_JOB}", "job number"]),
        ({"job_id": completed.id, "reason": "x"}, [f"Job {completed.job_number} is already Completed"]),
        ({"job_id": scheduled, "reason": "   "}, ["'reason' is required"]),
        ({"job_id": scheduled, "reason": ""}, ["reason: must not be empty"]),
        ({"job_id": -1, "reason": "x"}, ["job_id", "greater than 0"]),
    ]
    for arguments, expected in cases:
        await refused_cleanly(harness, client, "cancel_job", arguments, *expected)


# -- get_job_status -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, ["Give job_id or job_number"]),
        ({"job_number": ""}, ["Give job_id or job_number"]),
        ({"job_number": "999999"}, ["No job numbered 999999", "Check the number with the customer"]),
        ({"job_id": MISSING_JOB}, [f"No job with id {MISSING_JOB}"]),
        ({"job_id": 0}, ["job_id", "greater than 0"]),
    ],
)
async def test_get_job_status(
    harness: Harness, client: Client, arguments: dict[str, Any], expected: list[str]
) -> None:
    await refused_cleanly(harness, client, "get_job_status", arguments, *expected)


# -- escalate_to_dispatcher ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"reason": "human_request", "note": "Wants a person"}, ["Give interaction_id, phone or lead_id"]),
        (
            {"reason": "bored", "note": "x", "phone": "3035550142"},
            ["reason", "'human_request'", "'negative_sentiment'"],
        ),
        ({"note": "x", "phone": "3035550142"}, ["reason: required"]),
        ({"reason": "human_request", "note": "", "phone": "3035550142"}, ["note: must not be empty"]),
        ({"reason": "human_request", "note": "  ", "phone": "3035550142"}, ["'note' is required"]),
        ({"reason": "human_request", "note": "x", "phone": "12345"}, ["'12345' is not a US phone number"]),
        ({"reason": "availability", "note": "x", "lead_id": 999}, ["No ServiceTitan lead with id 999"]),
    ],
)
async def test_escalate_to_dispatcher(
    harness: Harness, client: Client, arguments: dict[str, Any], expected: list[str]
) -> None:
    await refused_cleanly(harness, client, "escalate_to_dispatcher", arguments, *expected)


# -- the detector itself ------------------------------------------------------------------------------------
async def test_the_nothing_written_check_does_see_writes(harness: Harness, client: Client) -> None:
    """Guards the cases above against passing vacuously: each kind of write changes ``written_state``."""
    slot = (await slots_for(client))[0]
    writes: list[tuple[str, dict[str, Any]]] = [
        ("create_customer", NEW_CALLER),
        ("book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"])),
        ("escalate_to_dispatcher", {"reason": "availability", "note": "x", "lead_id": 12500001}),
    ]
    for tool, arguments in writes:
        before = await harness.written_state()
        await ok(client, tool, arguments)
        after = await harness.written_state()
        assert after["sandbox"] != before["sandbox"], tool
    scheduled = max(j.id for j in harness.sandbox.jobs.values())
    before = await harness.written_state()
    await ok(client, "cancel_job", {"job_id": scheduled, "reason": "x"})
    assert (await harness.written_state())["sandbox"] != before["sandbox"]
