"""The lifecycle tools through a real MCP client on the sandbox: answers checked against what the tenant
holds afterwards."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from sqlalchemy import select

from st_mcp.server import create_server
from st_mcp.store.schema import audit_events
from tests.server.conftest import JORDAN, KAREN_OPEN_LEAD, Harness, ok, refused

from .conftest import advance, book_for_lead

pytestmark = pytest.mark.anyio


async def test_add_job_note_writes_the_job_and_shows_in_status(harness: Harness, client: Client) -> None:
    booked = await book_for_lead(client)
    text = "Gate code 4411, dog in the yard. Call my wife at 303-555-0187 first."
    added = await ok(client, "add_job_note", {"job_id": booked.job_id, "text": text})

    job = harness.sandbox.jobs[booked.job_id]
    assert job.notes[-1].text == added["text"]
    assert added["text"].startswith(text) and "added by virtual_agent (st-mcp)" in added["text"]
    assert job.notes[-1].is_pinned
    status = await ok(client, "get_job_status", {"job_id": booked.job_id})
    assert any(n["text"] == added["text"] for n in status["notes"])
    # The audit keeps the call, with the phone in the note masked.
    async with harness.engine.connect() as conn:
        rows = (await conn.execute(select(audit_events).where(audit_events.c.tool == "add_job_note"))).all()
    recorded = json.dumps([dict(r._mapping) for r in rows], default=str)
    assert "Gate code 4411" in recorded
    assert "303-555-0187" not in recorded and "3035550187" not in recorded


async def test_a_note_on_a_finished_job_is_refused(harness: Harness, client: Client) -> None:
    booked = await book_for_lead(client)
    advance(harness, booked.job_id, "Completed")
    before = len(harness.sandbox.jobs[booked.job_id].notes)
    message = await refused(client, "add_job_note", {"job_id": booked.job_id, "text": "dog in the yard"})
    assert "Completed" in message
    assert len(harness.sandbox.jobs[booked.job_id].notes) == before


async def test_eta_before_and_after_dispatch(harness: Harness, client: Client) -> None:
    booked = await book_for_lead(client)
    scheduled = await ok(client, "get_technician_eta", {"job_id": booked.job_id})
    assert scheduled["status"] == "Scheduled"
    assert scheduled["tracking_url"] is None and scheduled["eta"] is None

    advance(harness, booked.job_id, "Dispatched")
    for key in ({"job_id": booked.job_id}, {"job_number": booked.job_number}, {"phone": "(720) 555-0199"}):
        eta = await ok(client, "get_technician_eta", key)
        assert eta["job_id"] == booked.job_id and eta["status"] == "Dispatched"
        tech_id = harness.sandbox.appointment_technician_ids(booked.appointment_id)[0]
        technician = harness.sandbox.technicians[tech_id]
        assert eta["technician_first_name"] == technician.first_name
        assert eta["tracking_url"].startswith("https://track.sandbox.servicetitan.invalid/t/")
        assert "on the way" in eta["eta"]
        whole = json.dumps(eta)
        assert technician.last_name not in whole and technician.phone not in whole

    advance(harness, booked.job_id, "Working")
    working = await ok(client, "get_technician_eta", {"job_id": booked.job_id})
    assert working["status"] == "Working" and "already there" in working["eta"]


async def test_eta_for_an_unknown_phone_says_what_to_do(client: Client) -> None:
    message = await refused(client, "get_technician_eta", {"phone": "(720) 555-0142"})
    assert "job number" in message


async def test_request_callback_creates_a_task_linked_to_the_interaction(
    harness: Harness, client: Client
) -> None:
    booked = await book_for_lead(client)
    tasks_before = set(harness.sandbox.tasks)
    result = await ok(
        client,
        "request_callback",
        {"interaction_id": booked.interaction_id, "reason": "Wants to ask about a maintenance plan",
         "preferred_window": "after 5 PM"},
    )  # fmt: skip
    [task_id] = set(harness.sandbox.tasks) - tasks_before
    task = harness.sandbox.tasks[task_id]
    assert result["task_id"] == task_id and result["via"] == "task"
    assert harness.sandbox.task_types[task.type_id].name == "Call Back"
    assert booked.interaction_id in (task.description or "") and "after 5 PM" in (task.description or "")
    assert task.customer_id == booked.customer_id
    detail = await ok(client, "get_interaction", {"interaction_id": booked.interaction_id})
    assert detail["status"] == result["status"] == "Converted: Agent"  # a callback is not an escalation
    assert any("Callback requested" in (h["reason"] or "") for h in detail["status_history"])


async def test_request_callback_by_phone_finds_the_customer(harness: Harness, client: Client) -> None:
    result = await ok(client, "request_callback", {"phone": "(303) 555-0142", "reason": "Billing question"})
    assert harness.sandbox.tasks[result["task_id"]].customer_id == JORDAN
    assert result["interaction_id"] is None


async def test_customer_history_matches_the_tenant(harness: Harness, client: Client) -> None:
    history = await ok(client, "get_customer_history", {"customer_id": JORDAN})
    tenant = harness.sandbox
    locations = {loc.id for loc in tenant.customer_locations(JORDAN)}
    equipment = [e for e in tenant.installed_equipment.values() if e.location_id in locations]
    assert sorted((e["make"], e["model"]) for e in history["equipment"]) == sorted(
        (e.manufacturer, e.model) for e in equipment
    )
    assert all(e["age_years"] is not None and e["age_years"] >= 0.9 for e in history["equipment"])
    jobs = [j for j in tenant.jobs.values() if j.customer_id == JORDAN]
    assert {j["job_id"] for j in history["jobs"]} == {j.id for j in jobs}
    for shown in history["jobs"]:
        assert [n["text"] for n in shown["notes"]] == [n.text for n in tenant.jobs[shown["job_id"]].notes]
    calls = [c for c in tenant.telecom_calls.values() if c.customer_id == JORDAN]
    assert len(history["calls"]) == len(calls)
    open_estimates = [
        e for e in tenant.estimates.values() if e.location_id in locations and e.status == "Open"
    ]
    assert history["open_estimates"] == len(open_estimates)
    assert history["phone"] == "(303) ***-0142"


async def test_customer_history_of_an_unknown_customer(client: Client) -> None:
    assert "lookup_customer" in await refused(client, "get_customer_history", {"customer_id": 99})


async def test_callback_as_a_lead_follow_up_by_config(harness: Harness) -> None:
    """[lifecycle] callback_via = "lead_follow_up": a conversation that came from a ServiceTitan lead gets
    a follow-up on that lead instead of a task."""
    settings = harness.settings.model_copy(
        update={"lifecycle": harness.settings.lifecycle.model_copy(update={"callback_via": "lead_follow_up"})}
    )
    lead = harness.sandbox.leads[KAREN_OPEN_LEAD]
    async with Client(create_server(settings, upstream=harness.upstream)) as agent:
        taken = await ok(
            agent,
            "ingest_lead",
            {"name": "Karen Lee", "phone": "(303) 555-0161", "zip": "80210", "servicetitan_lead_id": lead.id},
        )
        tasks_before, notes_before = len(harness.sandbox.tasks), len(lead.notes)
        result = await ok(
            agent, "request_callback", {"interaction_id": taken["interaction_id"], "reason": "Quote question"}
        )
    assert result["via"] == "lead_follow_up" and result["lead_id"] == lead.id
    assert len(harness.sandbox.tasks) == tasks_before
    assert lead.follow_up_date is not None
    assert any("Callback: Quote question" in n.text for n in lead.notes[notes_before:])
