"""DESIGN §9 guarantees, each one a test: no double booking, idempotent booking (also across a crash or a
timeout between ServiceTitan and the local commit), one token per token lifetime, and a bounded number of
upstream requests per tool call (DESIGN §10)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult

from st_mcp.servicetitan import UpstreamUnavailableError
from st_mcp.servicetitan.models.jpm import CreateJobRequest, Job
from st_mcp.store import BookingRecords
from st_mcp.store.schema import bookings

from .conftest import (
    JORDAN,
    JORDAN_LOCATION,
    PRIYA,
    PRIYA_LOCATION,
    Harness,
    booking_args,
    build_harness,
    new_interaction,
    ok,
    refused,
    slots_for,
)

pytestmark = pytest.mark.anyio


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def booked_in_window(harness: Harness, start: datetime) -> int:
    """Appointments that hold capacity in the window starting at ``start``."""
    return sum(1 for a in harness.sandbox.appointments.values() if a.start == start and a.consumes_capacity)


def denver_customers(harness: Harness, exclude: set[int]) -> list[tuple[int, int]]:
    """(customer, location) pairs of other serviceable customers in the Denver zone, for filling windows."""
    sandbox = harness.sandbox
    zone = next(z for z in sandbox.zones.values() if z.name == "Denver Metro")
    pairs = []
    for location in sorted(sandbox.locations.values(), key=lambda loc: loc.id):
        customer = sandbox.customers[location.customer_id]
        if customer.id not in exclude and not customer.do_not_service and location.address.zip in zone.zips:
            pairs.append((customer.id, location.id))
    return pairs


async def window_with_one_technician_left(harness: Harness, client: Client) -> dict[str, Any]:
    """A Heating Repair window with exactly one skilled technician still free (booking others into it
    when the seed has none)."""
    slots = await slots_for(client)
    slot = next((s for s in slots if s["technicians_available"] == 1), None)
    if slot is not None:
        return slot
    slot = slots[0]
    fillers = iter(denver_customers(harness, exclude={JORDAN, PRIYA}))
    while slot["technicians_available"] > 1:
        customer, location = next(fillers)
        await ok(client, "book_job", booking_args(customer, location, slot["slot_id"]))
        slot = next(s for s in await slots_for(client) if s["start_utc"] == slot["start_utc"])
    return slot


def text_of(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr,no-any-return]


# -- no double booking ------------------------------------------------------------------------------------
@pytest.mark.parametrize("connections", [1, 2], ids=["one-connection", "two-connections"])
async def test_two_agents_racing_for_the_last_technician_get_one_job(
    harness: Harness, connections: int
) -> None:
    async with harness.connect() as first, harness.connect() as second:
        other = second if connections == 2 else first
        slot = await window_with_one_technician_left(harness, first)
        # The other agent got its own offer of the same window (a slot_id it can verify itself).
        theirs = next(s for s in await slots_for(other) if s["start_utc"] == slot["start_utc"])
        assert theirs["technicians_available"] == 1
        start = utc(slot["start_utc"])
        held_before = booked_in_window(harness, start)
        jobs_before = len(harness.sandbox.jobs)

        # Widen the race: both live capacity re-checks stall a little, so without the window lease both
        # agents would see the last technician free and both would book.
        harness.sandbox.faults.add("POST", r"/capacity$", status=0, times=2, delay_seconds=0.05)
        results: dict[str, CallToolResult] = {}

        async def book(who: str, client: Client, args: dict[str, Any]) -> None:
            results[who] = await client.call_tool("book_job", args)

        async with anyio.create_task_group() as tg:
            tg.start_soon(book, "jordan", first, booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]))
            tg.start_soon(book, "priya", other, booking_args(PRIYA, PRIYA_LOCATION, theirs["slot_id"]))

    winners = [r for r in results.values() if not r.is_error]
    losers = [r for r in results.values() if r.is_error]
    assert len(winners) == 1 and len(losers) == 1, [text_of(r) for r in losers]
    assert len(harness.sandbox.jobs) == jobs_before + 1
    assert booked_in_window(harness, start) == held_before + 1
    job = harness.sandbox.jobs[winners[0].structured_content["job_id"]]  # type: ignore[index]
    assert harness.sandbox.appointments[job.appointment_ids[0]].start == start

    refusal = text_of(losers[0])
    assert f"No room left in {slot['label']}" in refusal
    assert "just taken" in refusal
    assert "slot_id slot1." in refusal, "the refusal offers other windows to book instead"
    assert "get_available_slots" in refusal
    (row,) = await harness.rows(bookings)
    assert (row["status"], row["job_id"]) == ("booked", job.id)


async def test_a_window_without_room_is_refused_even_with_a_valid_slot(
    harness: Harness, client: Client
) -> None:
    slot = await window_with_one_technician_left(harness, client)
    await ok(client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]))
    before = await harness.written_state()

    refusal = await refused(client, "book_job", booking_args(PRIYA, PRIYA_LOCATION, slot["slot_id"]))

    assert "No room left" in refusal
    assert await harness.written_state() == before
    offered = [s["start_utc"] for s in await slots_for(client)]
    assert slot["start_utc"] not in offered, "a full window is no longer offered"


# -- idempotent booking -------------------------------------------------------------------------------------
async def test_the_same_idempotency_key_returns_the_same_job(harness: Harness, client: Client) -> None:
    slot = (await slots_for(client))[0]
    args = booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="call-7f3a")

    first = await ok(client, "book_job", args)
    again = await ok(client, "book_job", args)

    assert first["replayed"] is False and again["replayed"] is True
    assert {k: v for k, v in again.items() if k not in ("replayed", "note", "campaign_id")} == {
        k: v for k, v in first.items() if k not in ("replayed", "note", "campaign_id")
    }
    assert "Nothing new was created" in again["note"]
    assert first["idempotency_key"] == "call-7f3a"
    assert [job.id for job in harness.jobs_with_key("call-7f3a")] == [first["job_id"]]
    assert await harness.count(bookings) == 1
    assert harness.app.calls[-1].upstream_requests == 0, "a replay is answered from the store"


async def test_the_default_key_is_interaction_plus_slot(harness: Harness, client: Client) -> None:
    slots = await slots_for(client)
    jobs_before = len(harness.sandbox.jobs)

    interaction = await new_interaction(client, "Jordan Avery", "3035550142")
    by_interaction = booking_args(JORDAN, JORDAN_LOCATION, slots[0]["slot_id"], interaction_id=interaction)
    first = await ok(client, "book_job", by_interaction)
    again = await ok(client, "book_job", by_interaction)
    assert (again["job_id"], again["replayed"]) == (first["job_id"], True)
    assert len(harness.jobs_with_key(first["idempotency_key"])) == 1

    # Without an interaction the key is customer + location + slot.
    plain = booking_args(PRIYA, PRIYA_LOCATION, slots[1]["slot_id"])
    second = await ok(client, "book_job", plain)
    second_again = await ok(client, "book_job", plain)
    assert (second_again["job_id"], second_again["replayed"]) == (second["job_id"], True)
    assert second["job_id"] != first["job_id"]

    assert len(harness.sandbox.jobs) == jobs_before + 2
    assert await harness.count(bookings) == 2


@pytest.mark.parametrize("change", ["slot", "customer"])
async def test_reusing_a_key_for_another_booking_is_refused(
    harness: Harness, client: Client, change: str
) -> None:
    slots = await slots_for(client)
    first = await ok(
        client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slots[0]["slot_id"], idempotency_key="k-1")
    )
    before = await harness.written_state()

    if change == "slot":
        other = booking_args(JORDAN, JORDAN_LOCATION, slots[1]["slot_id"], idempotency_key="k-1")
    else:
        other = booking_args(PRIYA, PRIYA_LOCATION, slots[0]["slot_id"], idempotency_key="k-1")
    refusal = await refused(client, "book_job", other)

    assert "idempotency_key 'k-1' was already used for a different booking" in refusal
    assert first["job_number"] in refusal
    assert "new key" in refusal
    assert await harness.written_state() == before


async def test_a_crash_after_servicetitan_accepted_the_job_is_reconciled(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = BookingRecords.complete
    crashes = []

    async def crash_once(self: BookingRecords, key: str, **fields: Any) -> None:
        if not crashes:
            crashes.append(key)
            raise RuntimeError("the process died before the local commit")
        await original(self, key, **fields)

    monkeypatch.setattr(BookingRecords, "complete", crash_once)
    slot = (await slots_for(client))[0]
    args = booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="crash-1")

    failure = await refused(client, "book_job", args)
    assert "went wrong on our side" in failure
    assert "RuntimeError" not in failure and "local commit" not in failure, "internals stay in the log"
    (created,) = harness.jobs_with_key("crash-1")  # ServiceTitan did accept the job
    (row,) = await harness.rows(bookings)
    assert (row["status"], row["job_id"]) == ("pending", None)

    retried = await ok(client, "book_job", args)

    assert retried["job_id"] == created.id
    assert retried["job_number"] == created.job_number
    assert retried["replayed"] is True
    assert [job.id for job in harness.jobs_with_key("crash-1")] == [created.id]
    (row,) = await harness.rows(bookings)
    assert (row["status"], row["job_id"]) == ("booked", created.id)
    assert booked_in_window(harness, utc(slot["start_utc"])) >= 1


async def test_a_key_left_pending_by_a_crash_is_not_reused_for_another_booking(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = BookingRecords.complete
    crashes: list[str] = []

    async def crash_once(self: BookingRecords, key: str, **fields: Any) -> None:
        if not crashes:
            crashes.append(key)
            raise RuntimeError("the process died before the local commit")
        await original(self, key, **fields)

    monkeypatch.setattr(BookingRecords, "complete", crash_once)
    slot = (await slots_for(client))[0]
    await refused(
        client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="k-9")
    )
    (jordans,) = harness.jobs_with_key("k-9")
    before = await harness.written_state()

    refusal = await refused(
        client, "book_job", booking_args(PRIYA, PRIYA_LOCATION, slot["slot_id"], idempotency_key="k-9")
    )

    assert "idempotency_key 'k-9'" in refusal and "different booking" in refusal
    assert await harness.written_state() == before
    # The original caller's retry still reconciles to their job.
    retried = await ok(
        client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="k-9")
    )
    assert (retried["job_id"], retried["customer_id"], retried["replayed"]) == (jordans.id, JORDAN, True)


@pytest.mark.parametrize("reached_servicetitan", [True, False], ids=["created", "not-created"])
async def test_a_create_that_times_out_is_reconciled_on_retry(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch, reached_servicetitan: bool
) -> None:
    jpm = harness.upstream.client.jpm
    create_job = jpm.create_job
    timeouts: list[Job | None] = []

    async def times_out_once(body: CreateJobRequest) -> Job:
        if not timeouts:
            # The request reached ServiceTitan (or not), but the answer never came back.
            timeouts.append(await create_job(body) if reached_servicetitan else None)
            raise UpstreamUnavailableError("POST /jpm/v2/jobs", "timed out")
        return await create_job(body)

    monkeypatch.setattr(jpm, "create_job", times_out_once)
    slot = (await slots_for(client))[0]
    interaction = await new_interaction(client, "Priya Raman", "7205550118", "80302")
    args = booking_args(PRIYA, PRIYA_LOCATION, slot["slot_id"], interaction_id=interaction)
    jobs_before = len(harness.sandbox.jobs)

    failure = await refused(client, "book_job", args)
    assert "did not confirm the booking" in failure
    assert "will not create a second job" in failure
    (row,) = await harness.rows(bookings)
    assert row["status"] == "pending"
    key = row["idempotency_key"]

    retried = await ok(client, "book_job", args)

    assert retried["idempotency_key"] == key
    assert len(harness.sandbox.jobs) == jobs_before + 1
    (job,) = harness.jobs_with_key(key)
    assert retried["job_id"] == job.id
    if reached_servicetitan:
        assert timeouts[0] is not None and job.id == timeouts[0].id
        assert retried["replayed"] is True
    else:
        assert retried["replayed"] is False
    (row,) = await harness.rows(bookings)
    assert (row["status"], row["job_id"]) == ("booked", job.id)


# -- upstream economy --------------------------------------------------------------------------------------
async def test_the_token_endpoint_is_called_once_for_a_whole_flow(harness: Harness) -> None:
    async with harness.connect() as client:
        await ok(client, "lookup_customer", {"phone": "3035550142"})
        slots = await slots_for(client, location_id=JORDAN_LOCATION)
        booked = await ok(client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slots[0]["slot_id"]))
        await ok(client, "reschedule_job", {"job_id": booked["job_id"], "slot_id": slots[1]["slot_id"]})
        await ok(client, "get_job_status", {"job_number": booked["job_number"]})
        await ok(client, "cancel_job", {"job_id": booked["job_id"], "reason": "Changed plans"})
    async with harness.connect(mode="legacy") as client:  # a second connection shares the token too
        await ok(
            client, "escalate_to_dispatcher", {"reason": "human_request", "phone": "3035550142", "note": "x"}
        )

    assert harness.token_requests() == 1
    assert harness.upstream.client.http.tokens.fetch_count == 1


# DESIGN §10 budgets for the agent's booking flow, as (upstream requests, sequential round trips). The
# reference lists it reads (job types, zones, campaigns, tag types) are loaded when the server starts,
# and what lookup read about the caller serves the slots and the booking that follow.
BUDGET = {
    "lookup_customer": (3, 2),  # customers by phone; then contacts and locations together
    "get_available_slots": (1, 1),  # capacity (the location came with lookup)
    "get_available_slots (cached)": (0, 0),
    "book_job": (2, 2),  # the capacity re-check beside the checks; then the create
    "get_job_status": (4, 2),  # the job; then its appointment, assignments and notes together
    "escalate_to_dispatcher": (3, 2),
}
LATENCY = 0.1  # per upstream request: concurrent requests overlap by far more than scheduling jitter


async def test_upstream_requests_and_round_trips_of_the_booking_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured: dict[str, tuple[int, int]] = {}
    capacity: dict[str, int] = {}
    latent = build_harness(tmp_path, monkeypatch, latency_seconds=LATENCY)
    async with latent as harness, harness.connect() as client:
        await harness.app.reference.job_types()  # the start-up load has finished

        async def step(label: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            asked = harness.capacity_requests()
            result = await ok(client, tool, arguments)
            record = harness.app.calls[-1]
            assert (record.tool, record.outcome) == (tool, "ok")
            measured[label] = (record.upstream_requests, record.upstream_round_trips)
            capacity[label] = harness.capacity_requests() - asked
            return result

        found = await step("lookup_customer", "lookup_customer", {"phone": "(303) 555-0142"})
        location_id = found["customers"][0]["locations"][0]["location_id"]
        where = {"job_type": "no heat", "location_id": location_id}
        offer = await step("get_available_slots", "get_available_slots", where)
        again = await step("get_available_slots (cached)", "get_available_slots", where)
        assert [s["slot_id"] for s in again["slots"]] == [s["slot_id"] for s in offer["slots"]]
        booked = await step(
            "book_job", "book_job", booking_args(JORDAN, location_id, offer["slots"][0]["slot_id"])
        )
        await step("get_job_status", "get_job_status", {"job_id": booked["job_id"]})
        await step(
            "escalate_to_dispatcher",
            "escalate_to_dispatcher",
            {"reason": "human_request", "phone": "(303) 555-0142", "note": "Wants a new furnace."},
        )

    print("\n(upstream requests, round trips) per tool call:", measured, "capacity requests:", capacity)
    over = {
        label: got
        for label, got in measured.items()
        if got[0] > BUDGET[label][0] or got[1] > BUDGET[label][1]
    }
    assert not over, f"over budget: {over} (measured {measured})"
    flow = ("lookup_customer", "get_available_slots", "book_job")
    assert sum(measured[label][1] for label in flow) == 5, "five sequential round trips per booking"
    assert capacity["get_available_slots"] == 1
    assert capacity["get_available_slots (cached)"] == 0, "a repeated offer within 20 s is cached"
    assert capacity["book_job"] == 1, "booking re-checks the window live, never from the cache"
    assert harness.token_requests() == 1


async def test_a_booking_without_a_lookup_reads_what_it_checks_from_servicetitan(
    harness: Harness, client: Client
) -> None:
    """Nothing kept (another replica did the lookup): the checks read ServiceTitan, still one round trip
    beside the capacity re-check."""
    slots = await slots_for(client)
    await ok(client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slots[0]["slot_id"]))
    record = harness.app.calls[-1]
    assert record.upstream_requests == 5  # customer, location, contacts, capacity; create


async def test_booking_drops_the_cached_capacity(harness: Harness, client: Client) -> None:
    slots = await slots_for(client)
    await slots_for(client)
    asked = harness.capacity_requests()
    await ok(client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slots[0]["slot_id"]))
    after_booking = harness.capacity_requests()
    assert after_booking == asked + 1  # the live re-check
    fresh = await slots_for(client)
    assert harness.capacity_requests() == after_booking + 1, "the offer after a booking asks again"
    window = next((s for s in fresh if s["start_utc"] == slots[0]["start_utc"]), None)
    assert window is None or window["technicians_available"] == slots[0]["technicians_available"] - 1
