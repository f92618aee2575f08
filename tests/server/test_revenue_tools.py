"""The revenue toolset through a real MCP client on the sandbox: a member books a due tune-up (and the
event is marked done by the job), a non-member hears the real plans and a follow-up is created, an open
estimate becomes an interaction in the queue and is texted within its send window, and an invoice's
balance is read back. Each answer is checked against what the sandbox tenant holds afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from mcp import Client

from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.sandbox.times import BUSINESS_TZ

from .conftest import FIXED_NOW, JORDAN, JORDAN_LOCATION, LUCAS, PRIYA, Harness, ok, refused

pytestmark = pytest.mark.anyio
PRIYA_PHONE = "+17205550118"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=BUSINESS_TZ)


# -- memberships ---------------------------------------------------------------------------------------
async def test_a_member_with_a_due_tune_up_books_it_and_the_event_is_marked_complete(
    harness: Harness, client: Client
) -> None:
    sandbox = harness.sandbox
    offered = await ok(client, "book_maintenance_visit", {"customer_id": JORDAN})
    assert offered["location_id"] == JORDAN_LOCATION
    due = offered["due_events"]
    assert [d["name"] for d in due] == ["AC Tune-Up"]  # the furnace one is half a year out
    event = sandbox.recurring_service_events[due[0]["event_id"]]
    assert event.location_id == JORDAN_LOCATION and event.status == "NotAttempted"
    assert FIXED_NOW <= event.date <= FIXED_NOW + timedelta(days=31)
    assert offered["slots"], offered["note"]
    jobs_before = len(sandbox.jobs)

    slot = offered["slots"][0]
    booked = await ok(client, "book_maintenance_visit", {"customer_id": JORDAN, "slot_id": slot["slot_id"]})

    visit = booked["booking"]
    assert booked["event_marked_complete"] is True
    job = sandbox.jobs[visit["job_id"]]
    assert (job.customer_id, job.location_id) == (JORDAN, JORDAN_LOCATION)
    assert sandbox.job_types[job.job_type_id].name == "HVAC Maintenance"
    assert sandbox.appointments[job.appointment_ids[0]].start.isoformat() == slot["start_utc"].replace(
        "Z", "+00:00"
    )
    assert (event.status, event.job_id) == ("Won", job.id)  # ServiceTitan's "mark complete", with the job
    assert len(sandbox.jobs) == jobs_before + 1

    again = await ok(client, "book_maintenance_visit", {"customer_id": JORDAN, "slot_id": slot["slot_id"]})
    assert again["booking"] is None and "Already booked" in again["note"]
    assert len(sandbox.jobs) == jobs_before + 1  # the retry made nothing new


async def test_a_lost_mark_complete_is_finished_by_a_retry_without_a_second_job(
    harness: Harness, client: Client
) -> None:
    sandbox = harness.sandbox
    offered = await ok(client, "book_maintenance_visit", {"customer_id": JORDAN})
    event = sandbox.recurring_service_events[offered["due_events"][0]["event_id"]]
    # A refusal, not a 5xx: the client retries 5xx on this repeatable write by itself.
    sandbox.faults.add("POST", r"/recurring-service-events/\d+/mark-complete$", status=409)
    args = {"customer_id": JORDAN, "slot_id": offered["slots"][0]["slot_id"]}

    first = await ok(client, "book_maintenance_visit", args)
    assert first["event_marked_complete"] is False and "same idempotency_key" in first["note"]
    assert event.status == "NotAttempted"
    jobs = len(sandbox.jobs)

    retry = await ok(client, "book_maintenance_visit", args)
    assert retry["booking"]["job_id"] == first["booking"]["job_id"] and retry["booking"]["replayed"] is True
    assert retry["event_marked_complete"] is True and (event.status, event.job_id) == (
        "Won",
        first["booking"]["job_id"],
    )
    assert len(sandbox.jobs) == jobs


async def test_a_non_member_cannot_book_a_membership_visit(client: Client) -> None:
    text = await refused(client, "book_maintenance_visit", {"customer_id": LUCAS})
    assert "no active membership" in text and "upsell_membership" in text


async def test_a_non_member_hears_the_real_membership_types_and_a_follow_up_is_created(
    harness: Harness, client: Client
) -> None:
    sandbox = harness.sandbox
    offer = await ok(client, "upsell_membership", {"customer_id": LUCAS})
    assert offer["is_member"] is False and offer["memberships"] == []
    on_offer = {t.id: t for t in sandbox.membership_types.values() if t.active}
    assert {t["membership_type_id"] for t in offer["membership_types"]} == set(on_offer)  # never the retired
    club = next(t for t in offer["membership_types"] if t["name"] == "Peak Comfort Club")
    seeded = on_offer[club["membership_type_id"]]
    assert [(p["billing_frequency"], p["price"]) for p in club["prices"]] == [
        (frequency, price) for _, frequency, _, price, _ in seeded.billing
    ]
    assert club["prices"][0]["words"] == "$199.00 a year"
    assert club["visits_per_year"] == 2 and club["included_services"] == ["AC Tune-Up", "Furnace Tune-Up"]
    assert club["discount_percent"] == 15.0
    plumbing = next(t for t in offer["membership_types"] if t["name"] == "Plumbing Protection Plan")
    assert plumbing["discounts"] == ["10% off Plumbing"]

    tasks_before = set(sandbox.tasks)
    follow_up = await ok(
        client,
        "record_membership_interest",
        {
            "customer_id": LUCAS,
            "membership_type_id": club["membership_type_id"],
            "note": "Asked what the club costs; wants a call tomorrow.",
        },
    )
    assert follow_up["follow_up"] == "task" and follow_up["membership_type"] == "Peak Comfort Club"
    (task_id,) = set(sandbox.tasks) - tasks_before
    task = sandbox.tasks[task_id]
    assert follow_up["task_id"] == task_id and task.customer_id == LUCAS
    assert task.name == "Membership interest: Lucas Moreno"
    description = task.description or ""
    assert "Peak Comfort Club" in description and "wants a call tomorrow" in description


async def test_interest_becomes_a_lead_when_the_office_works_leads(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[revenue] membership_follow_up = "lead"``: a CRM lead on the customer's location, for tomorrow."""
    monkeypatch.setattr(harness.settings.revenue, "membership_follow_up", "lead")
    sandbox = harness.sandbox
    leads_before, tasks_before = set(sandbox.leads), set(sandbox.tasks)
    interest = {"customer_id": LUCAS, "note": "Would like to hear about plans."}
    follow_up = await ok(client, "record_membership_interest", interest)
    assert follow_up["follow_up"] == "lead" and follow_up["task_id"] is None
    (lead_id,) = set(sandbox.leads) - leads_before
    lead = sandbox.leads[lead_id]
    assert follow_up["lead_id"] == lead_id and (lead.customer_id, lead.status) == (LUCAS, "Open")
    assert lead.location_id in {loc.id for loc in sandbox.locations.values() if loc.customer_id == LUCAS}
    assert "Lucas Moreno is interested in a membership plan" in (lead.summary or "")
    assert "hear about plans" in (lead.summary or "") and lead.follow_up_date is not None
    assert set(sandbox.tasks) == tasks_before and f"lead {lead_id}" in follow_up["note"]


async def test_interest_in_a_plan_that_is_not_on_offer_is_refused_before_anything_is_written(
    harness: Harness, client: Client
) -> None:
    retired = next(t.id for t in harness.sandbox.membership_types.values() if not t.active)
    tasks_before = len(harness.sandbox.tasks)
    text = await refused(
        client,
        "record_membership_interest",
        {"customer_id": LUCAS, "membership_type_id": retired, "note": "Wants the legacy plan."},
    )
    assert f"No membership type {retired} is on offer" in text and "Peak Comfort Club" in text
    assert len(harness.sandbox.tasks) == tasks_before


async def test_a_member_sees_what_the_plan_includes(client: Client) -> None:
    offer = await ok(client, "upsell_membership", {"customer_id": JORDAN})
    assert offer["is_member"] is True
    (membership,) = [m for m in offer["memberships"] if m["status"] == "Active"]
    assert membership["name"] == "Peak Comfort Club"
    assert membership["includes"]["included_services"] == ["AC Tune-Up", "Furnace Tune-Up"]


# -- estimates -------------------------------------------------------------------------------------------
async def test_open_estimates_are_read_back_exactly(harness: Harness, client: Client) -> None:
    seeded = [e for e in harness.sandbox.estimates.values() if e.customer_id == PRIYA and e.status == "Open"]
    result = await ok(client, "get_open_estimates", {"customer_id": PRIYA})
    assert [e["estimate_id"] for e in result["estimates"]] == [e.id for e in seeded]
    estimate, source = result["estimates"][0], seeded[0]
    assert estimate["total"] == round(source.subtotal + source.tax, 2)
    assert estimate["name"] == source.name and estimate["status"] == "Open"
    assert estimate["sold_by"] == harness.sandbox.technicians[source.sold_by].name  # type: ignore[index]
    assert [i["description"] for i in estimate["items"]] == [i.description for i in source.items]
    assert (await ok(client, "get_open_estimates", {"customer_id": LUCAS}))["estimates"] == []


async def test_an_open_estimate_becomes_an_interaction_in_the_queue_and_is_texted_within_its_send_window(
    harness: Harness, client: Client
) -> None:
    harness.clock.set(local(5, 21, 30))  # after 9 PM in Boulder: outside Priya's send window
    await ok(client, "get_lead_queue", {})  # connects the server (the sweep runs in its app context)
    swept = await harness.app.revenue.estimates.sweep()
    open_estimates = [e for e in harness.sandbox.estimates.values() if e.status == "Open"]
    assert swept.seen == len(open_estimates) and len(swept.ingested) + swept.duplicates == len(open_estimates)

    queue = await ok(client, "get_lead_queue", {"limit": 20})
    (item,) = [i for i in queue["items"] if i["lead"]["customer_id"] == PRIYA]
    assert item["action"] == "first_touch" and item["lead"]["source"] == "Estimate Follow-up"
    (estimate,) = [e for e in open_estimates if e.customer_id == PRIYA]
    assert f"{estimate.name}: ${estimate.subtotal + estimate.tax:,.2f}" in item["lead"]["request"]
    assert item["can_send_now"] is False
    assert datetime.fromisoformat(item["send_window_opens_at"]) == local(6, 8)
    detail = await ok(client, "get_interaction", {"interaction_id": item["interaction_id"]})
    assert detail["goal"] == "Estimate Follow-up"

    text = "Hi Priya, this is Sam at Peak Home Services about your tankless water heater estimate."
    held = await refused(client, "send_message", {"interaction_id": item["interaction_id"], "text": text})
    assert "8:00 AM" in held
    gateway = harness.app.outreach.gateway
    assert isinstance(gateway, SandboxGateway) and gateway.sent_to(PRIYA_PHONE) == []

    harness.clock.set(local(6, 8, 5))
    sent = await ok(client, "send_message", {"interaction_id": item["interaction_id"], "text": text})
    assert sent["interaction_id"] == item["interaction_id"]
    assert [s.body for s in gateway.sent_to(PRIYA_PHONE)] == [text]

    again = await harness.app.revenue.estimates.sweep()  # a second pass takes nothing in twice
    assert again.ingested == [] and again.already_known == len(open_estimates)


async def test_members_tune_ups_coming_due_become_maintenance_reminders_in_the_queue(
    harness: Harness, client: Client
) -> None:
    await ok(client, "get_lead_queue", {})
    swept = await harness.app.revenue.reminders.sweep()
    due = [
        e
        for e in harness.sandbox.recurring_service_events.values()
        if e.status == "NotAttempted" and FIXED_NOW <= e.date <= FIXED_NOW + timedelta(days=31)
    ]
    assert swept.seen == len(due) and len(swept.ingested) + swept.duplicates + len(swept.unusable) == len(due)
    queue = await ok(client, "get_lead_queue", {"limit": 50})
    (item,) = [i for i in queue["items"] if i["lead"]["customer_id"] == JORDAN]
    assert item["lead"]["source"] == "Maintenance Reminder" and "AC Tune-Up due" in item["lead"]["request"]
    detail = await ok(client, "get_interaction", {"interaction_id": item["interaction_id"]})
    assert detail["goal"] == "Maintenance Reminder"
    assert (await harness.app.revenue.reminders.sweep()).ingested == []  # once per tune-up


# -- invoices --------------------------------------------------------------------------------------------
async def test_request_invoice_reads_a_balance(harness: Harness, client: Client) -> None:
    (owed,) = [i for i in harness.sandbox.invoices.values() if i.customer_id == PRIYA and i.balance > 0]
    by_id = await ok(client, "request_invoice", {"invoice_id": owed.id})
    assert (by_id["total"], by_id["balance"]) == (owed.total, owed.balance)
    assert by_id["balance"] < by_id["total"] and by_id["paid_in_full"] is False
    assert by_id["number"] == owed.reference_number
    assert [line["description"] for line in by_id["items"]] == [item.description for item in owed.items]
    assert f"balance due ${owed.balance:,.2f}" in by_id["summary"]
    by_job = await ok(client, "request_invoice", {"job_id": owed.job_id})
    assert by_job["invoice_id"] == owed.id
    assert "card" not in {key.lower() for key in by_id}


async def test_request_invoice_needs_exactly_one_id(client: Client) -> None:
    assert "exactly one" in await refused(client, "request_invoice", {})
    assert "No invoice" in await refused(client, "request_invoice", {"invoice_id": 1})
