"""``st-mcp demo``: a scripted agent (no LLM) drives the MCP server through a real client session.

Two callers text the contractor. The first is looked up by phone, offered real windows from
ServiceTitan capacity and booked; the job status is read back. The second asks for a person and is
escalated to a dispatcher. Every tool call is printed with its arguments and a readable summary of
its result, and the run ends with the booked job as the (sandbox) ServiceTitan tenant holds it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from mcp import Client

from st_mcp.config import Settings
from st_mcp.server import create_server
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.upstream import Upstream, connect_servicetitan

FIRST_CALLER = "(303) 555-0142"
SECOND_CALLER = "720.555.0118"


class Transcript:
    """Calls tools and prints what an operator watching the agent would want to see."""

    def __init__(self, client: Client, st: ServiceTitanClient) -> None:
        self._client = client
        self._st = st
        self.upstream_per_call: list[tuple[str, int]] = []

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        shown = {k: (v[:18] + "…" if k == "slot_id" else v) for k, v in arguments.items()}
        print(f"  → {tool} {json.dumps(shown, ensure_ascii=False)}")
        before = self._st.meter.total_requests
        result = await self._client.call_tool(tool, arguments)
        made = self._st.meter.total_requests - before
        self.upstream_per_call.append((tool, made))
        if result.is_error:
            text = result.content[0].text if result.content else "error"
            raise RuntimeError(f"{tool} failed: {text}")
        return dict(result.structured_content or {})

    @staticmethod
    def said(who: str, text: str) -> None:
        print(f"  {who}: “{text}”")

    @staticmethod
    def result(*lines: str) -> None:
        for line in lines:
            print(f"    ← {line}")


async def run_demo(settings: Settings) -> int:
    with tempfile.TemporaryDirectory(prefix="st-mcp-demo-") as folder:
        if settings.database_url is None:
            # A throwaway store: each demo run starts from the freshly seeded sandbox tenant.
            settings = settings.model_copy(
                update={"database_url": f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"}
            )
        upstream = connect_servicetitan(settings.servicetitan)
        async with upstream.client:
            return await _converse(settings, upstream)


async def _converse(settings: Settings, upstream: Upstream) -> int:
    st = upstream.client
    server = create_server(settings, upstream=upstream)
    print(f"st-mcp demo — a scripted agent on ServiceTitan tenant {st.tenant_id} "
          f"({settings.servicetitan.environment}), through a real MCP client session")  # fmt: skip
    async with Client(server) as client:
        tools = await client.list_tools()
        print(f"  the server offers {len(tools.tools)} tools: {', '.join(t.name for t in tools.tools)}")
        chat = Transcript(client, st)

        print(f"\nCaller 1 texts from {FIRST_CALLER}")
        chat.said("Caller", "Our furnace is blowing cold air. Can someone come out this week?")
        found = await chat.call("lookup_customer", {"phone": FIRST_CALLER})
        customer = found["customers"][0]
        location = next(loc for loc in customer["locations"] if loc["in_service_area"])
        chat.result(
            f"{customer['name']} (customer {customer['customer_id']}), {found['phone']}",
            f"{location['address']} — in the service area ({location['zone']})",
            f"{len(customer['recent_jobs'])} recent jobs, {len(customer['memberships'])} membership(s)",
        )

        offer = await chat.call(
            "get_available_slots", {"job_type": "no heat", "location_id": location["location_id"]}
        )
        chat.result(f"{offer['job_type']} ({offer['duration_minutes']} min), real windows from capacity:")
        for slot in offer["slots"]:
            chat.result(f"  {slot['label']} — {slot['technicians_available']} technician(s) free")
        labels = [slot["label"] for slot in offer["slots"]]
        first_name = customer["name"].split()[0]
        chat.said(
            "Agent", f"Hi {first_name}! I can have a technician there {', '.join(labels)}. Which works best?"
        )
        chosen = offer["slots"][-1]
        chat.said("Caller", f"{chosen['label'].split(',')[0]} works.")

        booked = await chat.call(
            "book_job",
            {
                "customer_id": customer["customer_id"],
                "location_id": location["location_id"],
                "slot_id": chosen["slot_id"],
                "summary": "Furnace blowing cold air; customer is a member.",
                "interaction_id": "demo-caller-1",
            },
        )
        chat.result(f"job {booked['job_number']} (id {booked['job_id']}) booked for {booked['label']}")
        again = await chat.call(
            "book_job",
            {
                "customer_id": customer["customer_id"],
                "location_id": location["location_id"],
                "slot_id": chosen["slot_id"],
                "summary": "Furnace blowing cold air; customer is a member.",
                "interaction_id": "demo-caller-1",
            },
        )
        chat.result(
            f"a retried booking returns job {again['job_number']} again (replayed={again['replayed']})"
        )

        status = await chat.call("get_job_status", {"job_id": booked["job_id"]})
        chat.result(f"{status['status_text']}: {status['label']}")
        chat.said("Agent", f"You're booked: {booked['label']}. Your job number is {booked['job_number']}.")

        print(f"\nCaller 2 texts from {SECOND_CALLER}")
        chat.said("Caller", "I'd rather talk to a real person about a new water heater.")
        escalation = await chat.call(
            "escalate_to_dispatcher",
            {
                "reason": "human_request",
                "phone": SECOND_CALLER,
                "note": "Wants a person to discuss a new water heater.",
            },
        )
        chat.result(f"{escalation['status']} — ServiceTitan task {escalation['servicetitan_task_number']}")
        chat.said("Agent", "Of course — a member of our team will call you shortly.")

    await _show_job(st, settings, booked["job_id"])
    print("\nUpstream ServiceTitan requests per tool call:")
    for tool, made in chat.upstream_per_call:
        print(f"  {tool:<24}{made}")
    token_calls = st.http.tokens.fetch_count
    print(f"Token endpoint calls for the whole run: {token_calls}")
    return 0


async def _show_job(st: ServiceTitanClient, settings: Settings, job_id: int) -> None:
    guid = settings.booking.application_guid
    job = await st.jpm.get_job(job_id, external_data_application_guid=guid)
    appointment = await st.jpm.get_appointment(job.firstAppointmentId)
    campaigns = {c.id: c.name for c in (await st.marketing.list_campaigns()).data}
    tags = {t.id: t.name for t in (await st.settings.list_tag_types()).data}
    window = f"{appointment.start:%Y-%m-%d %H:%M}–{appointment.end:%H:%M} UTC"
    tag_names = [tags.get(t, t) for t in job.tagTypeIds]
    print(f"\nThe booked job as ServiceTitan holds it (GET /jpm/v2/tenant/{st.tenant_id}/jobs/{job_id}):")
    print(f"  jobNumber {job.jobNumber} · jobStatus {job.jobStatus} · customerId {job.customerId}")
    print(f"  campaign {campaigns.get(job.campaignId, job.campaignId)} · tags {tag_names}")
    print(f"  appointment {appointment.id}: {window}, {appointment.status}")
    print(f"  externalData {[(item.key, item.value) for item in job.externalData or []]}")
