"""Happy paths of the eight agent tools, through a real MCP client, in both protocol eras.

Every result is checked against what the (sandbox) ServiceTitan tenant holds afterwards, not only
against the tool's own answer.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from mcp import Client

from st_mcp.store.schema import escalations

from .conftest import (
    FIXED_NOW,
    HAROLD_LOCATION,
    HEATING_REPAIR,
    JORDAN,
    JORDAN_LOCATION,
    JORDAN_OPEN_LEAD,
    KAREN_OPEN_LEAD,
    MODES,
    PRIYA,
    Harness,
    booking_args,
    new_interaction,
    ok,
    slots_for,
)

pytestmark = pytest.mark.anyio

LABEL = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{1,2}, \d{1,2}(:\d{2})?( [AP]M)?–\d{1,2}(:\d{2})? [AP]M$"
)


@pytest.fixture(params=MODES)
async def agent(request: pytest.FixtureRequest, harness: Harness) -> AsyncIterator[Client]:
    async with harness.connect(request.param) as connected:
        yield connected


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def technicians_open(client: Client, slot: dict[str, Any]) -> int:
    """How many technicians get_available_slots reports free in exactly this window (0 = not offered)."""
    offer = await ok(
        client,
        "get_available_slots",
        {
            "job_type": "Heating Repair",
            "zip": "80210",
            "earliest": slot["start_utc"],
            "latest": slot["end_utc"],
        },
    )
    return sum(s["technicians_available"] for s in offer["slots"] if s["start_utc"] == slot["start_utc"])


# -- lookup_customer ----------------------------------------------------------------------------------
@pytest.mark.parametrize("phone", ["303.555.0142", "+1 (303) 555-0142", "3035550142", "(303) 555-0142"])
async def test_lookup_by_phone_in_any_us_format(agent: Client, phone: str) -> None:
    found = await ok(agent, "lookup_customer", {"phone": phone})

    assert found["phone"] == "+13035550142"
    assert [c["customer_id"] for c in found["customers"]] == [JORDAN]
    jordan = found["customers"][0]
    assert jordan["name"] == "Jordan Avery"
    assert jordan["do_not_service"] is False
    assert "+13035550142" in jordan["phones"]
    home = next(loc for loc in jordan["locations"] if loc["location_id"] == JORDAN_LOCATION)
    assert home["zip"] == "80210"
    assert home["in_service_area"] is True
    assert home["zone"] == "Denver Metro"
    assert "1420 S Pearl St" in home["address"]
    # The fast default: sections not asked for are null (not fetched), never an empty list (none).
    assert (jordan["memberships"], jordan["recent_jobs"], jordan["upcoming_appointments"]) == (
        None,
        None,
        None,
    )


async def test_lookup_adds_the_sections_asked_for(agent: Client) -> None:
    found = await ok(
        agent,
        "lookup_customer",
        {"phone": "3035550142", "include": ["appointments", "recent_jobs", "memberships"]},
    )
    jordan = found["customers"][0]
    assert [m["status"] for m in jordan["memberships"]] == ["Active"]
    assert jordan["recent_jobs"], "recent jobs come with the match"
    upcoming = [utc(a["start_utc"]) for a in jordan["upcoming_appointments"]]
    assert upcoming and min(upcoming) >= FIXED_NOW

    only = await ok(agent, "lookup_customer", {"phone": "3035550142", "include": ["appointments"]})
    assert only["customers"][0]["upcoming_appointments"] == jordan["upcoming_appointments"]
    assert only["customers"][0]["recent_jobs"] is None

    wrong = await agent.call_tool("lookup_customer", {"phone": "3035550142", "include": ["invoices"]})
    assert wrong.is_error


async def test_lookup_flags_a_location_outside_the_service_area(agent: Client) -> None:
    found = await ok(agent, "lookup_customer", {"phone": "719-555-0124"})
    harold = found["customers"][0]
    assert harold["name"] == "Harold Kessler"
    assert [(loc["location_id"], loc["in_service_area"]) for loc in harold["locations"]] == [
        (HAROLD_LOCATION, False)
    ]


async def test_lookup_by_name_and_by_email(agent: Client) -> None:
    by_name = await ok(agent, "lookup_customer", {"name": "Jordan Avery"})
    assert JORDAN in [c["customer_id"] for c in by_name["customers"]]
    assert by_name["phone"] is None

    by_email = await ok(agent, "lookup_customer", {"email": "Jordan.Avery@example.com"})
    assert [c["customer_id"] for c in by_email["customers"]] == [JORDAN]

    nobody = await ok(agent, "lookup_customer", {"phone": "(303) 555-0999"})
    assert nobody["customers"] == []
    assert "create_customer" in nobody["note"]


# -- create_customer ----------------------------------------------------------------------------------
async def test_create_customer_twice_returns_the_same_customer(agent: Client, harness: Harness) -> None:
    args = {
        "name": "Casey Jordan",
        "phone": "303.555.0111",
        "email": "casey@example.com",
        "street": "77 S Gaylord St",
        "city": "Denver",
        "state": "co",
        "zip": "80209",
    }
    customers_before = len(harness.sandbox.customers)
    first = await ok(agent, "create_customer", args)
    assert first["created"] is True and first["location_created"] is True
    assert first["in_service_area"] is True
    assert first["phone"] == "+13035550111"

    again = await ok(
        agent, "create_customer", {**args, "phone": "+1 (303) 555-0111", "name": "casey  jordan"}
    )
    assert again["created"] is False and again["location_created"] is False
    assert (again["customer_id"], again["location_id"]) == (first["customer_id"], first["location_id"])
    assert len(harness.sandbox.customers) == customers_before + 1

    stored = harness.sandbox.customers[first["customer_id"]]
    assert stored.name == "Casey Jordan"
    location = harness.sandbox.locations[first["location_id"]]
    assert (location.customer_id, location.address.zip, location.address.state) == (
        first["customer_id"],
        "80209",
        "CO",
    )

    # The same person at a new address gets a new location, not a new customer.
    moved = await ok(
        agent, "create_customer", {**args, "street": "900 Pine St", "city": "Boulder", "zip": "80302"}
    )
    assert moved["customer_id"] == first["customer_id"]
    assert moved["created"] is False and moved["location_created"] is True
    assert moved["location_id"] != first["location_id"]
    assert len(harness.sandbox.customers) == customers_before + 1

    found = await ok(agent, "lookup_customer", {"phone": "3035550111"})
    assert [c["customer_id"] for c in found["customers"]] == [first["customer_id"]]
    assert len(found["customers"][0]["locations"]) == 2


# -- get_available_slots --------------------------------------------------------------------------------
async def test_slots_by_name_alias_and_id_are_the_same_real_windows(agent: Client) -> None:
    offers = [
        await ok(agent, "get_available_slots", {"job_type": wanted, "zip": "80210"})
        for wanted in ("Heating Repair", "no heat", str(HEATING_REPAIR), "heating repair")
    ]
    for offer in offers:
        assert offer["job_type_id"] == HEATING_REPAIR
        assert offer["job_type"] == "Heating Repair"
        assert offer["duration_minutes"] == 120
    windows = [[s["start_utc"] for s in offer["slots"]] for offer in offers]
    assert all(w == windows[0] for w in windows)

    slots = offers[0]["slots"]
    assert len(slots) == 3  # max_slots defaults to 3
    assert offers[0]["explanation"] is None
    days = {s["start_local"][:10] for s in slots}
    assert len(days) >= 2, "offers are spread across days"
    for slot in slots:
        assert LABEL.match(slot["label"]), slot["label"]
        assert slot["slot_id"].startswith("slot1.")
        assert slot["technicians_available"] >= 1
        assert utc(slot["start_utc"]) >= FIXED_NOW + timedelta(minutes=30)
        assert (utc(slot["end_utc"]) - utc(slot["start_utc"])).total_seconds() == 7200
    assert len({s["slot_id"] for s in slots}) == len(slots)


async def test_slots_for_a_location_and_with_a_range(agent: Client) -> None:
    by_location = await ok(
        agent, "get_available_slots", {"job_type": "no heat", "location_id": JORDAN_LOCATION, "max_slots": 5}
    )
    assert by_location["zip"] == "80210"
    assert len(by_location["slots"]) == 5
    assert len({s["start_local"][:10] for s in by_location["slots"]}) >= 3

    thursday = await ok(
        agent,
        "get_available_slots",
        {
            "job_type": "Heating Repair",
            "zip": "80210",
            "earliest": "2026-05-07T00:00:00-06:00",
            "latest": "2026-05-08T00:00:00-06:00",
            "max_slots": 10,
        },
    )
    assert thursday["slots"], "Thursday has open windows"
    assert {s["start_local"][:10] for s in thursday["slots"]} == {"2026-05-07"}


# -- book_job -------------------------------------------------------------------------------------------
async def test_book_job_creates_the_job_in_servicetitan(agent: Client, harness: Harness) -> None:
    sandbox = harness.sandbox
    slot = next(s for s in await slots_for(agent) if s["technicians_available"] >= 2)
    before = await technicians_open(agent, slot)
    jobs_before = len(sandbox.jobs)

    interaction = await new_interaction(agent, "Jordan Avery", "303-555-0142")
    booked = await ok(
        agent,
        "book_job",
        booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], interaction_id=interaction),
    )

    assert booked["replayed"] is False
    assert booked["label"] == slot["label"]
    assert (booked["start_utc"], booked["end_utc"]) == (slot["start_utc"], slot["end_utc"])
    assert len(sandbox.jobs) == jobs_before + 1
    job = sandbox.jobs[booked["job_id"]]
    assert job.job_number == booked["job_number"]
    assert (job.customer_id, job.location_id, job.job_type_id) == (JORDAN, JORDAN_LOCATION, HEATING_REPAIR)
    assert job.status == "Scheduled"
    assert job.summary == "Furnace is blowing cold air."
    assert sandbox.campaigns[job.campaign_id].name == "Virtual Agent"
    assert booked["campaign_id"] == job.campaign_id
    assert [sandbox.tag_types[t].name for t in job.tag_type_ids] == ["AI Booked"]
    guid = harness.settings.booking.application_guid.lower()
    assert job.external_data[guid] == [("st-mcp-booking", booked["idempotency_key"])]
    assert interaction in booked["idempotency_key"]
    opened = await ok(agent, "get_interaction", {"interaction_id": interaction})
    assert opened["status"] == "Converted: Agent"
    assert (opened["links"]["job_id"], opened["links"]["customer_id"]) == (booked["job_id"], JORDAN)

    (appointment,) = sandbox.job_appointments(job)
    assert appointment.id == booked["appointment_id"]
    assert (appointment.start, appointment.end) == (utc(slot["start_utc"]), utc(slot["end_utc"]))
    assert (appointment.arrival_window_start, appointment.arrival_window_end) == (
        appointment.start,
        appointment.end,
    )
    assert appointment.status == "Scheduled"

    # The window really lost a technician: the next offer (not a cached one) shows it.
    assert await technicians_open(agent, slot) == before - 1


async def test_book_job_for_a_lead_uses_the_lead_campaign(agent: Client, harness: Harness) -> None:
    sandbox = harness.sandbox
    lead = sandbox.leads[JORDAN_OPEN_LEAD]
    assert lead.status == "Open"
    slot = (await slots_for(agent))[0]

    booked = await ok(
        agent, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"], lead_id=JORDAN_OPEN_LEAD)
    )

    job = sandbox.jobs[booked["job_id"]]
    assert job.campaign_id == lead.campaign_id == booked["campaign_id"]
    assert sandbox.campaigns[job.campaign_id].name == "Website"
    assert job.lead_id == JORDAN_OPEN_LEAD
    assert [sandbox.tag_types[t].name for t in job.tag_type_ids] == ["AI Booked"]


# -- reschedule_job and cancel_job ----------------------------------------------------------------------
async def test_reschedule_moves_the_appointment_and_cancel_frees_the_window(
    agent: Client, harness: Harness
) -> None:
    sandbox = harness.sandbox
    slots = await slots_for(agent)
    first, second = slots[0], slots[-1]
    assert first["start_utc"] != second["start_utc"]
    free_first, free_second = await technicians_open(agent, first), await technicians_open(agent, second)

    booked = await ok(agent, "book_job", booking_args(JORDAN, JORDAN_LOCATION, first["slot_id"]))
    assert await technicians_open(agent, first) == free_first - 1

    moved = await ok(agent, "reschedule_job", {"job_id": booked["job_id"], "slot_id": second["slot_id"]})
    assert moved["job_id"] == booked["job_id"]
    assert moved["label"] == second["label"]
    assert moved["previous_label"] == first["label"]
    appointment = sandbox.appointments[booked["appointment_id"]]
    assert (appointment.start, appointment.end) == (utc(second["start_utc"]), utc(second["end_utc"]))
    assert appointment.status == "Scheduled"
    assert await technicians_open(agent, first) == free_first
    assert await technicians_open(agent, second) == free_second - 1

    canceled = await ok(agent, "cancel_job", {"job_id": booked["job_id"], "reason": "Fixed it myself"})
    assert canceled == {
        "job_id": booked["job_id"],
        "job_number": booked["job_number"],
        "status": "Canceled",
        "reason": "Fixed it myself",
    }
    job = sandbox.jobs[booked["job_id"]]
    assert job.status == "Canceled"
    assert sandbox.cancel_reasons[job.cancel_reason_id].name == "Customer canceled"
    assert appointment.status == "Canceled"
    assert any("Fixed it myself" in note.text for note in job.notes)
    assert await technicians_open(agent, second) == free_second


# -- get_job_status -------------------------------------------------------------------------------------
async def test_job_status_by_id_and_by_number(agent: Client) -> None:
    slot = (await slots_for(agent))[1]
    booked = await ok(agent, "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]))

    by_id = await ok(agent, "get_job_status", {"job_id": booked["job_id"]})
    by_number = await ok(agent, "get_job_status", {"job_number": f" {booked['job_number']} "})
    assert by_id == by_number
    assert by_id["job_number"] == booked["job_number"]
    assert by_id["status"] == "Scheduled"
    assert by_id["status_text"].startswith("Scheduled")
    assert by_id["job_type"] == "Heating Repair"
    assert (by_id["customer_id"], by_id["location_id"]) == (JORDAN, JORDAN_LOCATION)
    assert by_id["label"] == slot["label"]
    assert by_id["start_utc"] == slot["start_utc"]
    assert by_id["technicians"] == []
    assert by_id["tracking_url"] is None


async def test_job_status_of_a_dispatched_job_names_the_technician_and_tracks(
    agent: Client, harness: Harness
) -> None:
    sandbox = harness.sandbox
    dispatched = sorted(
        (a for a in sandbox.appointments.values() if a.status == "Dispatched"), key=lambda a: a.id
    )
    assert dispatched, "the seed has technicians on the way at the fixed clock"
    appointment = dispatched[0]
    job = sandbox.jobs[appointment.job_id]
    names = [sandbox.technicians[t].name for t in sandbox.appointment_technician_ids(appointment.id)]
    assert names

    status = await ok(agent, "get_job_status", {"job_id": job.id})
    assert status["status"] == "Dispatched"
    assert status["status_text"].startswith("On the way")
    assert status["technicians"] == names
    assert status["tracking_url"] and status["tracking_url"].startswith("https://")
    assert status["start_utc"] == appointment.start.isoformat().replace("+00:00", "Z")

    again = await ok(agent, "get_job_status", {"job_number": job.job_number})
    assert again["tracking_url"] == status["tracking_url"]


# -- escalate_to_dispatcher -----------------------------------------------------------------------------
async def test_escalate_by_phone_creates_a_task_and_a_record(agent: Client, harness: Harness) -> None:
    sandbox = harness.sandbox
    tasks_before = set(sandbox.tasks)
    interaction = await new_interaction(agent, "Priya Raman", "720.555.0118", "80302")

    escalated = await ok(
        agent,
        "escalate_to_dispatcher",
        {
            "reason": "human_request",
            "phone": "720.555.0118",
            "note": "Wants a person to discuss a new water heater.",
            "interaction_id": interaction,
        },
    )

    assert escalated["status"] == "Escalated (Human Request)"
    assert escalated["reason"] == "human_request"
    assert escalated["customer_id"] == PRIYA
    assert escalated["lead_follow_up_at"] is None
    (new_task,) = set(sandbox.tasks) - tasks_before
    task = sandbox.tasks[new_task]
    assert task.id == escalated["servicetitan_task_id"]
    assert task.task_number == escalated["servicetitan_task_number"]
    assert task.name == "Escalated (Human Request): Priya Raman"
    assert task.customer_id == PRIYA
    assert task.priority == "Urgent"
    assert "new water heater" in (task.description or "")
    assert "+17205550118" in (task.description or "")

    (row,) = await harness.rows(escalations)
    assert row["id"] == escalated["escalation_id"]
    assert (row["reason"], row["phone"], row["interaction_id"]) == (
        "human_request",
        "+17205550118",
        interaction,
    )
    opened = await ok(agent, "get_interaction", {"interaction_id": interaction})
    assert opened["status"] == "Escalated (Human Request)"
    assert row["servicetitan_task_id"] == task.id
    assert row["lead_id"] is None


async def test_escalate_a_lead_adds_a_follow_up_on_the_lead(agent: Client, harness: Harness) -> None:
    sandbox = harness.sandbox
    lead = sandbox.leads[KAREN_OPEN_LEAD]
    assert lead.follow_up_date is None

    escalated = await ok(
        agent,
        "escalate_to_dispatcher",
        {"reason": "availability", "lead_id": KAREN_OPEN_LEAD, "note": "Nothing fits before Friday."},
    )

    assert escalated["status"] == "Escalated (Availability)"
    task = sandbox.tasks[escalated["servicetitan_task_id"]]
    assert task.name == "Escalated (Availability): Karen Whitmore"
    assert task.priority == "High"
    assert lead.follow_up_date is not None
    assert lead.follow_up_date == utc(escalated["lead_follow_up_at"])
    assert lead.follow_up_date > harness.clock.now()
    assert any(
        note.text == "Escalated (Availability): Nothing fits before Friday." and note.is_pinned
        for note in lead.notes
    )

    (row,) = await harness.rows(escalations)
    assert (row["lead_id"], row["reason"]) == (KAREN_OPEN_LEAD, "availability")
    assert row["servicetitan_lead_follow_up"] is not None
