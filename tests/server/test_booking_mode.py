"""Booking-request mode ([booking] mode = "booking") end to end, through a real MCP client on the sandbox:
book_job creates a CRM booking for the contractor's booking provider instead of a job, a second call with
the same key returns it, a create whose answer is lost is found again (never made twice), the office
converts it in ServiceTitan, and the conversion check records the job and tells the lead through the gate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import anyio
import pytest
from mcp import Client

from st_mcp.config import BookingSettings
from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.sandbox.revenue import convert_booking
from st_mcp.sandbox.times import BUSINESS_TZ

from .conftest import JORDAN, JORDAN_LOCATION, Harness, booking_args, new_interaction, ok, refused, slots_for

pytestmark = pytest.mark.anyio
PROVIDER = 14100001  # the seeded booking provider ("st-mcp Virtual Agent")
JORDAN_PHONE = "+13035550142"
BOOKINGS = r"/crm/v2/tenant/\d+/booking-provider/\d+/bookings$"


@pytest.fixture
def booking_mode(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    assert PROVIDER in harness.sandbox.booking_providers
    # What `[booking] mode = "booking"` and `booking_provider` give (the services read them per call).
    monkeypatch.setattr(harness.settings.booking, "mode", "booking")
    monkeypatch.setattr(harness.settings.booking, "booking_provider", PROVIDER)
    return harness


def test_booking_mode_needs_a_provider() -> None:
    with pytest.raises(ValueError, match="booking_provider"):
        BookingSettings(mode="booking")


@pytest.fixture
async def agent(booking_mode: Harness) -> AsyncIterator[Client]:
    async with booking_mode.connect() as connected:
        yield connected


def ours(harness: Harness) -> list[int]:
    """The booking ids in our provider's inbox (the website's scheduler has its own)."""
    return [b.id for b in harness.sandbox.bookings.values() if b.booking_provider_id == PROVIDER]


async def request_a_visit(client: Client, key: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    interaction = await new_interaction(client, "Jordan Avery", "303-555-0142")
    slot = (await slots_for(client, location_id=JORDAN_LOCATION))[0]
    args = booking_args(
        JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=interaction, idempotency_key=key
    )
    return args, slot, interaction


async def test_book_job_creates_a_booking_not_a_job_and_the_same_key_returns_it(
    booking_mode: Harness, agent: Client
) -> None:
    sandbox = booking_mode.sandbox
    args, slot, interaction = await request_a_visit(agent, "visit-1")
    jobs_before = len(sandbox.jobs)

    first = await ok(agent, "book_job", args)

    assert first["mode"] == "booking" and first["status"] == "Requested"
    assert first["job_id"] is None and first["appointment_id"] is None
    assert "the office will confirm" in first["note"]
    assert len(sandbox.jobs) == jobs_before  # no job: the office books it
    booking = sandbox.bookings[first["booking_id"]]
    assert (booking.booking_provider_id, booking.external_id, booking.status) == (PROVIDER, "visit-1", "New")
    assert booking.start is not None and booking.start.isoformat() == slot["start_utc"].replace("Z", "+00:00")
    assert sandbox.job_types[booking.job_type_id].name == "Heating Repair"  # type: ignore[index]
    assert booking.name == "Jordan Avery" and booking.address is not None and booking.address.zip == "80210"
    assert "Furnace is blowing cold air." in booking.summary and interaction in booking.summary
    # The office confirms on the number the lead texts from, and finds the customer by id.
    assert booking.contacts[0] == ("MobilePhone", JORDAN_PHONE, None)
    assert f"ServiceTitan customer: {JORDAN}" in booking.summary

    second = await ok(agent, "book_job", args)
    assert second["booking_id"] == first["booking_id"] and second["replayed"] is True
    assert ours(booking_mode) == [first["booking_id"]] and len(sandbox.jobs) == jobs_before
    status = await ok(agent, "get_interaction", {"interaction_id": interaction})
    assert not status["status"].startswith("Converted")  # requested is not booked


@pytest.mark.parametrize("fault", [{"status": "timeout", "delay_seconds": 0.05}, {"status": 502}])
async def test_a_lost_answer_does_not_make_two_bookings(
    booking_mode: Harness, agent: Client, fault: dict[str, Any]
) -> None:
    sandbox = booking_mode.sandbox
    args, _, _ = await request_a_visit(agent, "visit-doubt")
    sandbox.faults.add("POST", BOOKINGS, when="after", **fault)

    doubt = await refused(agent, "book_job", args)
    assert "same idempotency_key" in doubt
    (written,) = ours(booking_mode)  # it was written; the answer was lost

    found = await ok(agent, "book_job", args)
    assert found["booking_id"] == written and found["replayed"] is True
    assert ours(booking_mode) == [written]


async def test_a_refused_create_writes_nothing_and_can_be_retried(
    booking_mode: Harness, agent: Client
) -> None:
    sandbox = booking_mode.sandbox
    args, _, _ = await request_a_visit(agent, "visit-400")
    sandbox.faults.add("POST", BOOKINGS, status=400)
    await refused(agent, "book_job", args)
    assert ours(booking_mode) == []
    assert (await ok(agent, "book_job", args))["replayed"] is False
    assert len(ours(booking_mode)) == 1


async def test_the_office_converts_the_booking_and_the_lead_is_told(
    booking_mode: Harness, agent: Client
) -> None:
    sandbox = booking_mode.sandbox
    args, _, interaction = await request_a_visit(agent, "visit-2")
    requested = await ok(agent, "book_job", args)
    conversions = booking_mode.app.revenue.conversions

    nothing = await conversions.check_once()
    assert (nothing.checked, nothing.still_requested, nothing.converted) == (1, 1, [])

    job = convert_booking(sandbox, sandbox.bookings[requested["booking_id"]], JORDAN, JORDAN_LOCATION)
    checked = await conversions.check_once()

    (converted,) = checked.converted
    assert (converted.booking_id, converted.job_id, converted.job_number) == (
        requested["booking_id"], job.id, job.job_number,
    )  # fmt: skip
    assert converted.told is True and converted.interaction_id == interaction
    detail = await ok(agent, "get_interaction", {"interaction_id": interaction})
    assert detail["status"] == "Converted: Agent" and detail["links"]["job_id"] == job.id
    gateway = booking_mode.app.outreach.gateway
    assert isinstance(gateway, SandboxGateway)
    (told,) = gateway.sent_to(JORDAN_PHONE)
    assert "confirmed" in told.body and job.job_number in told.body
    replay = await ok(agent, "book_job", args)  # the key now answers with the job
    assert replay["job_id"] == job.id and replay["status"] == "Converted"

    assert (await conversions.check_once()).converted == []  # told once, not again
    assert len(gateway.sent_to(JORDAN_PHONE)) == 1


async def test_a_members_tune_up_in_booking_mode_is_marked_done_when_the_office_converts_it(
    booking_mode: Harness, agent: Client
) -> None:
    sandbox = booking_mode.sandbox
    offered = await ok(agent, "book_maintenance_visit", {"customer_id": JORDAN})
    event = sandbox.recurring_service_events[offered["due_events"][0]["event_id"]]
    requested = await ok(
        agent, "book_maintenance_visit", {"customer_id": JORDAN, "slot_id": offered["slots"][0]["slot_id"]}
    )
    assert requested["booking"]["mode"] == "booking" and requested["event_marked_complete"] is False
    assert event.status == "NotAttempted"  # not done before a job exists
    booking = sandbox.bookings[requested["booking"]["booking_id"]]
    assert sandbox.job_types[booking.job_type_id].name == "HVAC Maintenance"  # type: ignore[index]

    job = convert_booking(sandbox, booking, JORDAN, JORDAN_LOCATION)
    (converted,) = (await booking_mode.app.revenue.conversions.check_once()).converted
    assert converted.job_id == job.id and converted.told is False  # no conversation to text
    assert (event.status, event.job_id) == ("Won", job.id)


async def test_a_conversion_noticed_at_night_is_told_in_the_morning(
    booking_mode: Harness, agent: Client
) -> None:
    sandbox = booking_mode.sandbox
    args, _, _ = await request_a_visit(agent, "visit-night")
    requested = await ok(agent, "book_job", args)
    convert_booking(sandbox, sandbox.bookings[requested["booking_id"]], JORDAN, JORDAN_LOCATION)
    conversions = booking_mode.app.revenue.conversions
    gateway = booking_mode.app.outreach.gateway
    assert isinstance(gateway, SandboxGateway)

    booking_mode.clock.set(datetime(2026, 5, 5, 22, 30, tzinfo=BUSINESS_TZ))  # quiet hours in Denver
    (held,) = (await conversions.check_once()).converted
    assert held.told is False and "8:00 AM" in (held.why_not_told or "")
    assert gateway.sent_to(JORDAN_PHONE) == []

    booking_mode.clock.set(datetime(2026, 5, 6, 8, 15, tzinfo=BUSINESS_TZ))
    (told,) = (await conversions.check_once()).converted
    assert told.told is True and len(gateway.sent_to(JORDAN_PHONE)) == 1


async def queued(client: Client, interaction: str) -> list[str]:
    """What the lead queue asks for this conversation now (its actions)."""
    queue = await ok(client, "get_lead_queue", {"limit": 50})
    return [item["action"] for item in queue["items"] if item["interaction_id"] == interaction]


async def test_a_requested_visit_waits_for_the_office_not_for_follow_ups_and_a_dismissal_ends_it(
    booking_mode: Harness, agent: Client
) -> None:
    """A lead who asked for a visit is not chased while the office decides: the queue lists only their
    replies. The office dismisses the request in ServiceTitan: the conversation ends as a person's decision,
    with the reason, and nothing is texted."""
    sandbox = booking_mode.sandbox
    args, _, interaction = await request_a_visit(agent, "visit-wait")
    assert await queued(agent, interaction) == ["first_touch"]
    await ok(agent, "send_message", {"interaction_id": interaction, "text": "Hi Jordan, when suits you?"})
    requested = await ok(agent, "book_job", args)
    for days in (1, 2, 8, 30):  # every follow-up and the abandon would be due by now
        booking_mode.clock.set(datetime(2026, 5, 5, 11, 0, tzinfo=BUSINESS_TZ) + timedelta(days=days))
        assert await queued(agent, interaction) == [], f"chased on day {days}"
    reply = {"interaction_id": interaction, "direction": "inbound", "text": "Any news?"}
    await ok(agent, "log_message", reply)
    assert await queued(agent, interaction) == ["reply"]  # a lead waiting on us is still answered
    gateway = booking_mode.app.outreach.gateway
    assert isinstance(gateway, SandboxGateway)
    texts_before = len(gateway.sent_to(JORDAN_PHONE))

    sandbox.bookings[requested["booking_id"]].status = "Dismissed"  # a CSR dismisses it in ServiceTitan
    checked = await booking_mode.app.revenue.conversions.check_once()

    assert checked.dismissed == [requested["booking_id"]]
    detail = await ok(agent, "get_interaction", {"interaction_id": interaction})
    assert detail["status"] == "Dismissed: Human"
    assert f"dismissed booking request {requested['booking_id']}" in detail["status_history"][-1]["reason"]
    assert len(gateway.sent_to(JORDAN_PHONE)) == texts_before and await queued(agent, interaction) == []
    assert (await booking_mode.app.revenue.conversions.check_once()).dismissed == []  # once


async def test_the_job_events_watcher_notices_the_conversion_and_the_lead_is_told_once(
    booking_mode: Harness, agent: Client
) -> None:
    """The watcher's pass checks the requests too, so a contractor who runs the watcher needs no second
    timer; its pass and the conversion timer take turns (a lease), and the lead hears it once."""
    sandbox = booking_mode.sandbox
    args, _, interaction = await request_a_visit(agent, "visit-watch")
    requested = await ok(agent, "book_job", args)
    job = convert_booking(sandbox, sandbox.bookings[requested["booking_id"]], JORDAN, JORDAN_LOCATION)
    watcher, conversions = booking_mode.app.lifecycle.watcher, booking_mode.app.revenue.conversions

    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.poll_once)
        tg.start_soon(conversions.check_once)
    assert (await watcher.poll_once()).bookings_converted == 0  # already told
    gateway = booking_mode.app.outreach.gateway
    assert isinstance(gateway, SandboxGateway)
    (told,) = gateway.sent_to(JORDAN_PHONE)
    assert job.job_number in told.body
    detail = await ok(agent, "get_interaction", {"interaction_id": interaction})
    assert detail["status"] == "Converted: Agent" and detail["links"]["job_id"] == job.id


async def test_a_pass_cut_off_after_telling_the_lead_does_not_tell_them_again(
    booking_mode: Harness, agent: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the confirmation left but before it was written down: the next pass finds
    the text in the thread and only writes it down."""
    sandbox = booking_mode.sandbox
    args, _, _ = await request_a_visit(agent, "visit-cut")
    requested = await ok(agent, "book_job", args)
    convert_booking(sandbox, sandbox.bookings[requested["booking_id"]], JORDAN, JORDAN_LOCATION)
    conversions = booking_mode.app.revenue.conversions

    async def died(*_args: object) -> None:
        raise ConnectionError("the process died after the text left")

    with monkeypatch.context() as patch:
        patch.setattr(booking_mode.app.booking.requests, "told", died)
        with pytest.raises(ConnectionError):
            await conversions.check_once()
    (again,) = (await conversions.check_once()).converted
    assert again.told is True
    gateway = booking_mode.app.outreach.gateway
    assert isinstance(gateway, SandboxGateway)
    assert len(gateway.sent_to(JORDAN_PHONE)) == 1
    assert (await conversions.check_once()).converted == []
