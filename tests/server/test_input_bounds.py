"""Inputs fuzzing found to end in internal errors (issue 11), now refused with a sentence before any I/O:
a non-ASCII slot_id, a 100,000-character job number, a date in year 1, windows asked for beyond the
horizon — and a span longer than ServiceTitan's capacity answers in one request, asked in parts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from mcp import Client

from .conftest import FIXED_NOW, JORDAN, JORDAN_LOCATION, Harness, booking_args, ok, refused

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("slot_id", ["slot1.ü.x", "slot1." + "é" * 10, "x" * 100_000])
@pytest.mark.parametrize("tool", ["book_job", "reschedule_job"])
async def test_a_slot_id_that_is_not_ours_is_refused_plainly(client: Client, tool: str, slot_id: str) -> None:
    args = (
        booking_args(JORDAN, JORDAN_LOCATION, slot_id)
        if tool == "book_job"
        else {"job_id": 1, "slot_id": slot_id}
    )
    text = await refused(client, tool, args)
    assert "not one this server issued" in text or "No job" in text, text
    assert "went wrong on our side" not in text and len(text) < 500


async def test_a_huge_job_number_is_refused_with_a_prefix(client: Client) -> None:
    text = await refused(client, "get_job_status", {"job_number": "7" * 100_000})
    assert "'job_number' is 100000 characters long; at most 64" in text and len(text) < 300


@pytest.mark.parametrize("field", ["since", "until"])
async def test_a_date_in_year_one_is_refused(client: Client, field: str) -> None:
    for tool in ("interaction_stats", "list_interactions"):
        text = await refused(client, tool, {field: "0001-01-01T00:00:00Z"})
        assert f"'{field}' must be a date between 1900 and 2100" in text, text


async def test_windows_beyond_the_horizon_are_refused_with_a_sentence(client: Client) -> None:
    earliest = (FIXED_NOW + timedelta(days=20)).isoformat()
    text = await refused(
        client, "get_available_slots", {"job_type": "Heating Repair", "zip": "80210", "earliest": earliest}
    )
    assert "up to 14 days ahead" in text and "ServiceTitan refused" not in text


async def test_a_span_longer_than_a_week_is_asked_in_parts(harness: Harness, client: Client) -> None:
    before = harness.capacity_requests()
    latest = (FIXED_NOW + timedelta(days=12)).isoformat()
    offer = await ok(
        client,
        "get_available_slots",
        {"job_type": "Heating Repair", "zip": "80210", "latest": latest, "max_slots": 10},
    )
    assert offer["slots"]
    assert harness.capacity_requests() - before == 2


async def test_an_id_beyond_int64_is_refused_before_servicetitan_is_asked(
    harness: Harness, client: Client
) -> None:
    before = len(harness.sandbox.request_log)
    text = await refused(client, "get_job_status", {"job_id": 2**70})
    assert "job_id: expected less than or equal to 9223372036854775807" in text
    assert len(harness.sandbox.request_log) == before
