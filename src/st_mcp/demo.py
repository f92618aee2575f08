"""``st-mcp demo``: a scripted agent (no LLM) and a CSR drive the server through real MCP sessions.

Leads arrive; the virtual agent texts them, offers real windows from ServiceTitan capacity and books
one (Converted: Agent); a second lead asks for a person and is escalated (Escalated (Human Request));
an out-of-area lead is dismissed. Then a CSR — a second MCP server process-identity on the same
database — takes the escalated conversation over, after which the agent is refused. The run ends
with the Interactions list and counters as a CSR sees them, and the booked job as ServiceTitan holds it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from mcp import Client

from st_mcp.config import IdentitySettings, Settings
from st_mcp.server import create_server
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.upstream import Upstream, connect_servicetitan

CSR_NAME = "Dana Whitfield"


class Session:
    """One MCP client session that prints each tool call like a transcript line."""

    def __init__(
        self, client: Client, st: ServiceTitanClient, who: str, ledger: list[tuple[str, int]]
    ) -> None:
        self._client = client
        self._st = st
        self._who = who
        self._ledger = ledger

    async def call(
        self, tool: str, arguments: dict[str, Any], *, expect_refusal: bool = False
    ) -> dict[str, Any]:
        shown = {k: (v[:18] + "…" if k == "slot_id" else v) for k, v in arguments.items()}
        print(f"  [{self._who}] → {tool} {json.dumps(shown, ensure_ascii=False)}")
        before = self._st.meter.total_requests
        result = await self._client.call_tool(tool, arguments)
        self._ledger.append((tool, self._st.meter.total_requests - before))
        text = result.content[0].text if result.content else ""
        if result.is_error:
            if not expect_refusal:
                raise RuntimeError(f"{tool} failed: {text}")
            print(f"      ✗ refused: {text.removeprefix(f'Error executing tool {tool}: ')}")
            return {}
        if expect_refusal:
            raise RuntimeError(f"{tool} should have been refused")
        return dict(result.structured_content or {})

    async def text(self, interaction_id: str, direction: str, words: str) -> dict[str, Any]:
        speaker = "Lead" if direction == "inbound" else self._who
        print(f"      {speaker}: “{words}”")
        return await self.call(
            "log_message", {"interaction_id": interaction_id, "direction": direction, "text": words}
        )


def show(*lines: str) -> None:
    for line in lines:
        print(f"      ← {line}")


async def run_demo(settings: Settings) -> int:
    with tempfile.TemporaryDirectory(prefix="st-mcp-demo-") as folder:
        if settings.database_url is None:
            # A throwaway store: each run starts from the freshly seeded sandbox tenant.
            settings = settings.model_copy(
                update={"database_url": f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"}
            )
        upstream = connect_servicetitan(settings.servicetitan)
        async with upstream.client:
            return await _story(settings, upstream)


async def _story(settings: Settings, upstream: Upstream) -> int:
    st = upstream.client
    agent_settings = settings.model_copy(update={"identity": IdentitySettings(role="virtual_agent")})
    csr_settings = settings.model_copy(update={"identity": IdentitySettings(role="csr", principal=CSR_NAME)})
    ledger: list[tuple[str, int]] = []
    print(
        f"st-mcp demo — ServiceTitan tenant {st.tenant_id} ({settings.servicetitan.environment}); "
        "a scripted virtual agent and a CSR, each through a real MCP client session"
    )

    async with Client(create_server(agent_settings, upstream=upstream)) as agent_client:
        agent = Session(agent_client, st, "Agent", ledger)
        tools = await agent_client.list_tools()
        print(f"  the server offers {len(tools.tools)} tools")
        booked = await _first_lead(agent)
        escalated_id = await _second_lead(agent)
        await _out_of_area_lead(agent)

        async with Client(create_server(csr_settings, upstream=upstream)) as csr_client:
            csr = Session(csr_client, st, CSR_NAME, ledger)
            await _csr_takes_over(csr, agent, escalated_id)
            await _csr_view(csr)

    await _show_job(st, settings, booked)
    print("\nUpstream ServiceTitan requests per tool call (0 = answered from this server's own records):")
    for tool, made in ledger:
        print(f"  {tool:<24}{made}")
    print(f"Token endpoint calls for the whole run: {st.http.tokens.fetch_count}")
    return 0


async def _first_lead(agent: Session) -> dict[str, Any]:
    print("\n7:45 pm — an Angi lead arrives: Jordan Avery, (303) 555-0142, “Furnace blowing cold air”")
    lead = await agent.call(
        "ingest_lead",
        {
            "name": "Jordan Avery",
            "phone": "(303) 555-0142",
            "zip": "80210",
            "source": "Angi",
            "summary": "Furnace blowing cold air",
        },
    )
    interaction = lead["interaction_id"]
    show(f"interaction {interaction}: {lead['status']}")
    greeting = "Hi Jordan, this is Sam, Peak Home Services' virtual assistant. Sorry about the furnace!"
    await agent.text(interaction, "outbound", f"{greeting} Want me to find a time for a technician?")
    reply = await agent.text(interaction, "inbound", "Yes please, as soon as you can.")
    show(f"status now {reply['status']}")

    found = await agent.call("lookup_customer", {"phone": "(303) 555-0142"})
    customer = found["customers"][0]
    location = next(loc for loc in customer["locations"] if loc["in_service_area"])
    show(
        f"{customer['name']} (customer {customer['customer_id']}), {location['address']}, in the service area"
    )
    offer = await agent.call(
        "get_available_slots", {"job_type": "no heat", "location_id": location["location_id"]}
    )
    labels = [slot["label"] for slot in offer["slots"]]
    show(f"{offer['job_type']}: " + " · ".join(labels))
    await agent.text(interaction, "outbound", f"I can send a technician {', '.join(labels)}. Which works?")
    chosen = offer["slots"][-1]
    await agent.text(interaction, "inbound", f"{chosen['label'].split(',')[0]} is good.")
    booked = await agent.call(
        "book_job",
        {
            "customer_id": customer["customer_id"],
            "location_id": location["location_id"],
            "slot_id": chosen["slot_id"],
            "summary": "Furnace blowing cold air (Angi lead).",
            "interaction_id": interaction,
        },
    )
    show(f"job {booked['job_number']} booked for {booked['label']}")
    await agent.text(
        interaction, "outbound", f"You're booked: {booked['label']}, job {booked['job_number']}."
    )
    await agent.call(
        "update_interaction",
        {
            "interaction_id": interaction,
            "summary": f"Jordan Avery (Angi): furnace blowing cold air. Booked Heating Repair "
            f"{booked['label']}, job {booked['job_number']}. Nothing pending.",
        },
    )
    status = await agent.call("get_job_status", {"job_id": booked["job_id"]})
    show(status["status_text"])
    return booked


async def _second_lead(agent: Session) -> str:
    print("\n8:02 pm — a Website lead: Priya Raman, 720.555.0118, “Water heater leaking”")
    lead = await agent.call(
        "ingest_lead",
        {
            "name": "Priya Raman",
            "phone": "720.555.0118",
            "zip": "80302",
            "source": "Website",
            "summary": "Water heater leaking",
        },
    )
    interaction = lead["interaction_id"]
    greeting = "Hi Priya, this is Sam from Peak Home Services. I can help with the water heater"
    await agent.text(interaction, "outbound", f"{greeting} — shall I look for a time?")
    await agent.text(interaction, "inbound", "I'd rather talk to a real person, please.")
    escalation = await agent.call(
        "escalate_to_dispatcher",
        {
            "interaction_id": interaction,
            "reason": "human_request",
            "note": "Leaking water heater; wants a person.",
        },
    )
    show(f"{escalation['status']} — ServiceTitan task {escalation['servicetitan_task_number']}")
    await agent.text(interaction, "outbound", "Of course — a member of our team will reach out shortly.")
    return interaction


async def _out_of_area_lead(agent: Session) -> None:
    print("\n8:10 pm — a Thumbtack lead from Colorado Springs (ZIP 80907), outside the service area")
    lead = await agent.call(
        "ingest_lead",
        {
            "name": "Harold Kessler",
            "phone": "719-555-0124",
            "zip": "80907",
            "source": "Thumbtack",
            "summary": "Outlet not working",
        },
    )
    show(f"{lead['status']}: {lead['note']}")


async def _csr_takes_over(csr: Session, agent: Session, interaction: str) -> None:
    print(f"\n8:15 pm — {CSR_NAME} (CSR) checks what is escalated and takes it over")
    escalated = await csr.call("list_interactions", {"escalated_only": True})
    for item in escalated["items"]:
        show(f"{item['name']} · {item['phone']} · {item['status']}")
    taken = await csr.call(
        "takeover_interaction", {"interaction_id": interaction, "note": "Calling her now."}
    )
    show(taken["note"])
    await csr.text(
        interaction, "outbound", "Hi Priya, this is Dana at Peak Home Services — calling you in a minute."
    )
    print("  The virtual agent tries to keep talking:")
    await agent.call(
        "log_message",
        {"interaction_id": interaction, "direction": "outbound", "text": "Still there, Priya?"},
        expect_refusal=True,
    )


async def _csr_view(csr: Session) -> None:
    print(f"\nThe Interactions page, as {CSR_NAME} sees it:")
    page = await csr.call("list_interactions", {})
    for item in page["items"]:
        print(
            f"    {item['status']:<28}{item['goal']:<15}{(item['name'] or ''):<16}{item['phone'] or '':<17}"
            f"{item['source'] or ''}"
        )
    stats = await csr.call("interaction_stats", {})
    rate = lambda value: "—" if value is None else f"{value:.0%}"  # noqa: E731
    speed = stats["median_speed_to_lead_seconds"]
    print(
        f"  Conversations {stats['conversations']} · Escalated {stats['escalated']} · "
        f"High Activity {stats['high_activity']} · Response Rate {rate(stats['response_rate'])} · "
        f"Conversion Rate {rate(stats['conversion_rate'])} · "
        f"median speed to lead {'—' if speed is None else f'{speed:.1f} s'}"
    )


async def _show_job(st: ServiceTitanClient, settings: Settings, booked: dict[str, Any]) -> None:
    job = await st.jpm.get_job(
        booked["job_id"], external_data_application_guid=settings.booking.application_guid
    )
    appointment = await st.jpm.get_appointment(job.firstAppointmentId)
    campaigns = {c.id: c.name for c in (await st.marketing.list_campaigns()).data}
    tags = {t.id: t.name for t in (await st.settings.list_tag_types()).data}
    window = f"{appointment.start:%Y-%m-%d %H:%M}–{appointment.end:%H:%M} UTC"
    tag_names = [tags.get(t, t) for t in job.tagTypeIds]
    print(f"\nThe booked job as ServiceTitan holds it (GET /jpm/v2/tenant/{st.tenant_id}/jobs/{job.id}):")
    print(f"  jobNumber {job.jobNumber} · jobStatus {job.jobStatus} · customerId {job.customerId}")
    print(f"  campaign {campaigns.get(job.campaignId, job.campaignId)} · tags {tag_names}")
    print(f"  appointment {appointment.id}: {window}, {appointment.status}")
    print(f"  externalData {[(item.key, item.value) for item in job.externalData or []]}")
