"""Booking under upstream faults (issue 11): a create is settled, never abandoned on doubt.

For each fault of the job create — refused before anything was written (429, 500, a connection that
never connected) or answered badly after the job was made (502, a timeout, a reset mid-answer) — and a
retry by the same key: exactly one job, or none and a clear refusal; never two, never an orphan the agent
is not told about. Reads (token, capacity re-check, reconciliation) fail too, and retry on their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client

import st_mcp.services.booking as booking_module
from st_mcp.servicetitan import RateLimitedError, ServerError, UpstreamUnavailableError
from st_mcp.servicetitan.models.jpm import CreateJobRequest, Job
from st_mcp.store.leases import lease
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
CREATE = "POST /jpm/v2/jobs"

# fault → (does the job exist after it?, the error the client raises)
FAULTS: dict[str, tuple[bool, Callable[[], Exception]]] = {
    "429 before the write": (
        False,
        lambda: RateLimitedError(CREATE, 429, "Too Many Requests", retry_after=1),
    ),
    "500 before the write": (False, lambda: ServerError(CREATE, 500, "Internal Server Error")),
    "refused connection": (False, lambda: UpstreamUnavailableError(CREATE, "ConnectError")),
    "502 after the write": (True, lambda: ServerError(CREATE, 502, "Bad Gateway")),
    "timeout after the write": (True, lambda: UpstreamUnavailableError(CREATE, "timed out")),
    "reset after the write": (True, lambda: UpstreamUnavailableError(CREATE, "RemoteProtocolError")),
}


def fail_create_once(harness: Harness, monkeypatch: pytest.MonkeyPatch, fault: str) -> list[Job | None]:
    """The next job create fails with ``fault``; after the write, the job exists in the tenant."""
    written, error = FAULTS[fault]
    jpm = harness.upstream.client.jpm
    create_job = jpm.create_job
    made: list[Job | None] = []

    async def failing_once(body: CreateJobRequest) -> Job:
        if not made:
            made.append(await create_job(body) if written else None)
            raise error()
        return await create_job(body)

    monkeypatch.setattr(jpm, "create_job", failing_once)
    return made


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_retry_by_the_same_key_makes_exactly_one_job(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    made = fail_create_once(harness, monkeypatch, fault)
    slot = (await slots_for(client))[0]
    args = booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key=f"k-{fault}")
    jobs_before = len(harness.sandbox.jobs)

    failure = await refused(client, "book_job", args)
    if fault.startswith("429"):
        assert "rate limiting" in failure or "did not confirm" in failure
    else:
        assert "did not confirm the booking" in failure and "same idempotency_key" in failure
    assert "Something went wrong" not in failure

    retried = await ok(client, "book_job", args)
    assert len(harness.sandbox.jobs) == jobs_before + 1, "never two jobs"
    (job,) = harness.jobs_with_key(f"k-{fault}")
    assert retried["job_id"] == job.id
    assert retried["replayed"] is (made[0] is not None)
    (row,) = await harness.rows(bookings)
    assert (row["status"], row["job_id"]) == ("booked", job.id)


async def test_after_a_502_a_retry_with_another_key_is_told_its_job(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The orphan case: ServiceTitan made the job and answered 502; the agent retries with a new key.
    It gets its job back (number and window), not a second job and not "the window was just taken"."""
    slot = await window_with_one_technician_left(harness, client)
    made = fail_create_once(harness, monkeypatch, "502 after the write")
    start = utc(slot["start_utc"])
    held = booked_in_window(harness, start)
    await refused(
        client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="a")
    )
    assert made[0] is not None and booked_in_window(harness, start) == held + 1

    again = await ok(
        client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="b")
    )
    assert (again["job_id"], again["job_number"], again["replayed"]) == (made[0].id, made[0].jobNumber, True)
    assert "Already booked earlier" in again["note"]
    assert booked_in_window(harness, start) == held + 1

    # Someone else asking for that last technician is refused: the window is full, with one job in it.
    refusal = await refused(client, "book_job", booking_args(PRIYA, PRIYA_LOCATION, slot["slot_id"]))
    assert "No room left" in refusal
    assert booked_in_window(harness, start) == held + 1


async def test_a_doubtful_create_drops_the_window_from_the_offer(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    slot = await window_with_one_technician_left(harness, client)
    fail_create_once(harness, monkeypatch, "502 after the write")
    await refused(client, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]))
    offered = [s["start_utc"] for s in await slots_for(client)]
    assert slot["start_utc"] not in offered, "a window filled by a doubtful create is not offered again"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", r"/connect/token$", 503),  # the token
        ("POST", r"/capacity$", 500),  # the capacity re-check
        ("POST", r"/capacity$", 429),
        ("GET", r"/jpm/v2/tenant/\d+/jobs$", 502),  # reconciliation's read-back
    ],
)
async def test_a_read_that_fails_once_is_retried_and_the_booking_holds(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch, method: str, path: str, status: int
) -> None:
    fail_create_once(harness, monkeypatch, "502 after the write")  # so the retry reads back
    slot = (await slots_for(client))[0]
    args: dict[str, Any] = booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], idempotency_key="r")
    await refused(client, "book_job", args)
    if path.startswith("/connect"):
        harness.upstream.client.http.tokens.forget()  # the retry must fetch a token first
    harness.sandbox.faults.add(method, path, status=status, times=1, retry_after=1 if status == 429 else None)
    retried = await ok(client, "book_job", args)
    assert len(harness.jobs_with_key("r")) == 1 and retried["replayed"] is True


async def test_a_lease_outlives_a_slow_create_so_no_one_books_the_window_under_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Agent A's job create stalls far longer than the window lease's time to live (a 429 retried after
    a long Retry-After does this); agent B, on another connection, asks for the same last technician.
    A live holder renews its lease, so B waits and is refused — one job in a capacity-1 window."""
    monkeypatch.setattr(booking_module, "lease", functools.partial(lease, ttl=0.3))
    async with harness.connect() as first, harness.connect() as second:
        slot = await window_with_one_technician_left(harness, first)
        theirs = next(s for s in await slots_for(second) if s["start_utc"] == slot["start_utc"])
        start = utc(slot["start_utc"])
        held = booked_in_window(harness, start)
        harness.sandbox.faults.add("POST", r"/jpm/v2/tenant/\d+/jobs$", status=0, times=1, delay_seconds=1.5)
        results: dict[str, Any] = {}

        async def book(who: str, client: Client, args: dict[str, Any], after: float) -> None:
            await anyio.sleep(after)
            results[who] = await client.call_tool("book_job", args)

        async with anyio.create_task_group() as tg:
            tg.start_soon(book, "a", first, booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]), 0)
            tg.start_soon(book, "b", second, booking_args(PRIYA, PRIYA_LOCATION, theirs["slot_id"]), 0.6)
    assert not results["a"].is_error
    assert results["b"].is_error and "No room left" in results["b"].content[0].text
    assert booked_in_window(harness, start) == held + 1
