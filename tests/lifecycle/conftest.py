"""Lifecycle tests reuse the server harness (real MCPServer, real in-memory Client, embedded sandbox pinned
to Tuesday 2026-05-05 10:30 Denver) and add what the after-the-booking story needs: a booked job of a
lead's conversation, the sandbox outbox, and moving the sandbox job on (``advance``)."""

from __future__ import annotations

from dataclasses import dataclass

from mcp import Client

from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.sandbox.progress import advance_job
from tests.server.conftest import Harness, ok, slots_for
from tests.server.conftest import client as client  # the fixtures, re-exported
from tests.server.conftest import harness as harness
from tests.server.conftest import store_url as store_url

LEAD_PHONE = "+17205550199"


@dataclass
class Booked:
    interaction_id: str
    customer_id: int
    location_id: int
    job_id: int
    job_number: str
    appointment_id: int


def gateway(harness: Harness) -> SandboxGateway:
    sms = harness.app.outreach.gateway
    assert isinstance(sms, SandboxGateway)
    return sms


def texts_to(harness: Harness, phone: str = LEAD_PHONE) -> list[str]:
    return [sent.message.body for sent in gateway(harness).sent_to(phone)]


def advance(harness: Harness, job_id: int, status: str) -> None:
    """The test helper: a dispatcher dispatches, the technician starts, the technician completes."""
    advance_job(harness.sandbox, job_id, status)


async def book_for_lead(client: Client, name: str = "Riley Park", phone: str = LEAD_PHONE) -> Booked:
    """A lead texts in, the agent creates the customer and books the first window."""
    lead = await ok(
        client, "ingest_lead", {"name": name, "phone": phone, "zip": "80210", "source": "Website"}
    )
    created = await ok(
        client,
        "create_customer",
        {"name": name, "phone": phone, "street": "1200 S Gaylord St", "city": "Denver", "state": "CO",
         "zip": "80210"},
    )  # fmt: skip
    slot = (await slots_for(client, location_id=created["location_id"]))[0]
    job = await ok(
        client,
        "book_job",
        {
            "customer_id": created["customer_id"],
            "location_id": created["location_id"],
            "slot_id": slot["slot_id"],
            "summary": "Furnace is blowing cold air.",
            "interaction_id": lead["interaction_id"],
        },
    )
    return Booked(
        lead["interaction_id"],
        created["customer_id"],
        created["location_id"],
        job["job_id"],
        job["job_number"],
        job["appointment_id"],
    )
