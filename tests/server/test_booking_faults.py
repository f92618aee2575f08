"""Booking under upstream faults (issue 11): a create is settled, never abandoned on doubt.

For each fault of the job create, armed on the sandbox's own fault knob — refused before anything was
written (429, 500, a reset) or answered badly after the job was made (502, a timeout, a reset) — and a
retry by the same key: exactly one job, or none and a clear refusal; never two, never an orphan the agent
is not told about. Reads (token, capacity re-check, reconciliation) fail too, and retry on their own.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client

from st_mcp.store.schema import bookings

from .conftest import (
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
from .test_booking_guarantees import booked_in_window, utc, window_with_one_technician_left

pytestmark = pytest.mark.anyio
JOBS = r"/jpm/v2/tenant/\d+/jobs$"

# fault → (does ServiceTitan make the job?, the sandbox fault on the job create: status, when, times).
# A 429 is retried by the client on its own, so it fails every attempt of the call.
FAULTS: dict[str, tuple[bool, dict[str, Any]]] = {
    "429 before the write": (False, {"status": 429, "times": 4}),
    "500 before the write": (False, {"status": 500}),
    "reset before the write": (False, {"status": "reset"}),
    "502 after the write": (True, {"status": 502, "when": "after"}),
    "timeout after the write": (True, {"status": "timeout", "when": "after", "delay_seconds": 0.05}),
    "reset after the write": (True, {"status": "reset", "when": "after"}),
}


def fail_create(harness: Harness, fault: str) -> bool:
    """Arm the sandbox's fault knob on the next job create; whether the job gets written."""
    written, knob = FAULTS[fault]
    harness.sandbox.faults.add("POST", JOBS, **knob)
    return written


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_retry_by_the_same_key_makes_exactly_one_job(
    harness: Harness, client: Client, fault: str
) -> None:
    written = fail_create(harness, fault)
    slot = (await slots_for(client))[0]
    args = booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key=f"k-{fault}")
    jobs_before = len(harness.sandbox.jobs)

    failure = await refused(client, "book_job", args)
    assert len(harness.jobs_with_key(f"k-{fault}")) == int(written)
    if fault.startswith("429"):
        assert "rate limiting" in failure or "did not confirm" in failure
    else:
        assert "did not confirm the booking" in failure and "same idempotency_key" in failure
    assert "Something went wrong" not in failure

    retried = await ok(client, "book_job", args)
    assert len(harness.sandbox.jobs) == jobs_before + 1, "never two jobs"
    (job,) = harness.jobs_with_key(f"k-{fault}")
    assert retried["job_id"] == job.id
    assert retried["replayed"] is written
    (row,) = await harness.rows(bookings)
    assert (row["status"], row["job_id"]) == ("booked", job.id)


async def test_after_a_502_a_retry_with_another_key_is_told_its_job(harness: Harness, client: Client) -> None:
    """The orphan case: ServiceTitan made the job and answered 502; the agent retries with a new key.
    It gets its job back (number and window), not a second job and not "the window was just taken"."""
    slot = await window_with_one_technician_left(harness, client)
    fail_create(harness, "502 after the write")
    start = utc(slot["start_utc"])
    held = booked_in_window(harness, start)
    await refused(
        client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="a")
    )
    (made,) = harness.jobs_with_key("a")
    assert booked_in_window(harness, start) == held + 1

    again = await ok(
        client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="b")
    )
    assert (again["job_id"], again["job_number"], again["replayed"]) == (made.id, made.job_number, True)
    assert "Already booked earlier" in again["note"]
    assert booked_in_window(harness, start) == held + 1

    # Someone else asking for that last technician is refused: the window is full, with one job in it.
    refusal = await refused(client, "book_job", booking_args(PRIYA, PRIYA_LOCATION, slot["slot_id"]))
    assert "No room left" in refusal
    assert booked_in_window(harness, start) == held + 1


async def test_a_doubtful_create_drops_the_window_from_the_offer(harness: Harness, client: Client) -> None:
    slot = await window_with_one_technician_left(harness, client)
    fail_create(harness, "502 after the write")
    await refused(client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]))
    offered = [s["start_utc"] for s in await slots_for(client)]
    assert slot["start_utc"] not in offered, "a window filled by a doubtful create is not offered again"


READS = {
    "token": ("POST", r"/connect/token$"),
    "capacity re-check": ("POST", r"/capacity$"),
    "read-back": ("GET", r"/jpm/v2/tenant/\d+/jobs$"),  # the reconciliation of a doubtful create
}
READ_FAULTS: dict[str, dict[str, Any]] = {
    "429": {"status": 429, "retry_after": 1},
    "500": {"status": 500},
    "502": {"status": 502},
    "reset": {"status": "reset"},
    "timeout": {"status": "timeout", "delay_seconds": 0.05},
}


@pytest.mark.parametrize("fault", list(READ_FAULTS))
@pytest.mark.parametrize("step", list(READS))
async def test_a_read_step_that_fails_once_is_retried_and_the_booking_holds(
    harness: Harness, client: Client, step: str, fault: str
) -> None:
    """Every read a booking makes — the token, the live capacity re-check, the read-back that settles a
    doubtful create — retried after each fault: one job, never two, and the fault was really met."""
    slot = (await slots_for(client))[0]
    args: dict[str, Any] = booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="r")
    if step == "read-back":
        fail_create(harness, "502 after the write")  # so the retry must read back to settle it
        await refused(client, "book_job", args)
    if step == "token":
        harness.upstream.client.http.tokens.forget()  # the booking must fetch a token first
    method, path = READS[step]
    armed = harness.sandbox.faults.add(method, path, times=1, **READ_FAULTS[fault])
    booked = await ok(client, "book_job", args)
    assert armed.hits == 1, f"the {step} fault was never met"
    (job,) = harness.jobs_with_key("r")
    assert booked["job_id"] == job.id and booked["replayed"] is (step == "read-back")


async def test_a_lease_outlives_a_slow_create_so_no_one_books_the_window_under_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Agent A's job create stalls far longer than the window lease's time to live (a 429 retried after
    a long Retry-After does this); agent B, on another connection, asks for the same last technician.
    A live holder renews its lease, so B waits and is refused — one job in a capacity-1 window."""
    booking = harness.settings.booking.model_copy(update={"window_lease_seconds": 1.0})
    monkeypatch.setattr(harness.settings, "booking", booking)
    async with harness.connect() as first, harness.connect() as second:
        slot = await window_with_one_technician_left(harness, first)
        theirs = next(s for s in await slots_for(second) if s["start_utc"] == slot["start_utc"])
        start = utc(slot["start_utc"])
        held = booked_in_window(harness, start)
        harness.sandbox.faults.add("POST", JOBS, status=0, times=1, delay_seconds=3.5)
        results: dict[str, Any] = {}

        async def book(who: str, client: Client, args: dict[str, Any], after: float) -> None:
            await anyio.sleep(after)
            results[who] = await client.call_tool("book_job", args)

        async with anyio.create_task_group() as tg:
            tg.start_soon(book, "a", first, booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]), 0)
            tg.start_soon(book, "b", second, booking_args(PRIYA, PRIYA_LOCATION, theirs["slot_id"]), 1.5)
    assert not results["a"].is_error
    assert results["b"].is_error and "No room left" in results["b"].content[0].text
    assert booked_in_window(harness, start) == held + 1
