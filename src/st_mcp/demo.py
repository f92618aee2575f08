"""``st-mcp demo``: Speed to Lead on the embedded sandbox, driven through real MCP sessions.

A scripted agent (no LLM) and a CSR use the server as any MCP client would; the leads answer through the
sandbox SMS gateway's simulated lead. The story, on a Saturday evening in Denver (ST_MCP_CLOCK):

- 6:30 pm — a Florida lead (8:30 pm in Tampa) is queued: the gate refuses a text until 8:00 am there;
- 7:45 pm — an Angi lead is texted within a second, gets real windows and is booked (Converted: Agent);
- 8:02 pm — a Website lead asks for a person and is escalated (Escalated (Human Request));
- 8:05 pm — a lead answers "stop texting me": opted out, confirmed once, and a further text is refused;
- 8:10 pm — an out-of-area lead is dismissed;
- 8:15 pm — a CSR takes the escalated conversation over, after which the agent is refused.

It ends with the CSR's Interactions page and counters, the audit chain, the booked job as ServiceTitan
holds it, and the measured time from each lead's arrival to its first text.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shlex
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs
from mcp import Client
from sqlalchemy import func, select

from st_mcp.config import IdentitySettings, Settings
from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.sandbox import SandboxTenant
from st_mcp.sandbox.progress import advance_job
from st_mcp.server import create_server
from st_mcp.server.context import open_app_context
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.store.engine import create_engine
from st_mcp.store.schema import interactions
from st_mcp.store.times import as_utc
from st_mcp.upstream import Upstream, connect_configured

CSR_NAME = "Dana Whitfield"
# Saturday 6:30 pm in Denver: 8:30 pm in Tampa. ST_MCP_CLOCK, when set, starts the story elsewhere.
STORY_START = datetime.fromisoformat("2026-03-14T18:30:00-06:00")


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
        shown = {k: (v[:18] + "…" if k == "slot_id" else v) for k, v in arguments.items() if k != "text"}
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

    async def send(self, interaction_id: str, words: str, *, expect_refusal: bool = False) -> dict[str, Any]:
        print(f"      {self._who}: “{words}”")
        arguments = {"interaction_id": interaction_id, "text": words}
        return await self.call("send_message", arguments, expect_refusal=expect_refusal)

    async def next_item(self) -> dict[str, Any]:
        """The top of the lead queue; prints the lead's reply when that is what is waiting."""
        queue = await self.call("get_lead_queue", {"limit": 5})
        item = queue["items"][0]
        if item["lead"]["last_reply"] and item["action"] == "reply":
            print(f"      Lead: “{item['lead']['last_reply']}”")
        return dict(item)


def show(*lines: str) -> None:
    for line in lines:
        print(f"      ← {line}")


class Story:
    """What the story needs besides the two sessions: the tenant's clock and the lead's phone."""

    def __init__(self, tenant: SandboxTenant | None, gateway: SandboxGateway) -> None:
        self.tenant = tenant
        self.gateway = gateway
        self.speed: list[tuple[str, float]] = []

    def at(self, hour: int, minute: int) -> str:
        """Move the tenant's clock to this local time of the story's day; return it as a label."""
        if self.tenant is not None:
            now = self.tenant.now().astimezone(STORY_START.tzinfo)
            target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if target > now:
                self.tenant.clock.advance((target - now).total_seconds())
        return f"{hour % 12 or 12}:{minute:02d} pm"


async def run_demo(settings: Settings) -> int:
    with _quiet_server_logs():
        return await _run(settings)


@contextlib.contextmanager
def _quiet_server_logs() -> Iterator[None]:
    """The story narrates every call itself; the servers' per-call log lines would only repeat it.
    (Restored afterwards: the demo also runs inside the test process.)"""
    loggers = [logging.getLogger(name) for name in ("st_mcp", "mcp")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def _run(settings: Settings) -> int:
    folder = demo_folder()
    if settings.database_url is None:
        # The demo's own store and tenant, started afresh each run and kept afterwards, so the same
        # conversations can be opened as a CSR (the commands are printed at the end).
        _reset(folder)
        settings = settings.model_copy(update={"database_url": _sqlite_url(folder / "demo.db")})
    st_settings = settings.servicetitan
    if st_settings.is_sandbox and st_settings.sandbox_clock is None:
        st_settings = st_settings.model_copy(update={"sandbox_clock": STORY_START})
        settings = settings.model_copy(update={"servicetitan": st_settings})
    upstream = connect_configured(settings)  # on the sandbox: its state file beside the store
    async with upstream.client:
        return await _story(settings, upstream)


async def _last_activity(settings: Settings) -> datetime | None:
    """When the story's last conversation moved, as the store recorded it (the story's own clock)."""
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            last = (await conn.execute(select(func.max(interactions.c.last_activity_at)))).scalar_one()
    finally:
        await engine.dispose()
    return as_utc(last) + timedelta(minutes=1) if last is not None else None


def demo_folder() -> Path:
    folder = Path(platformdirs.user_data_dir("st-mcp", appauthor=False)) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _reset(folder: Path) -> None:
    for pattern in ("demo.db*", "sandbox.db*"):
        for path in folder.glob(pattern):
            path.unlink()


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def follow_up_environment(settings: Settings, *, clock: datetime | None) -> dict[str, str]:
    """What a CSR session needs to open the demo's conversations: its store (and so its tenant, whose
    state sits beside it) and the story's clock where it ended, so the counters' default period (the
    30 days before "now") covers the story."""
    env = {"ST_MCP_ROLE": "csr", "ST_MCP_PRINCIPAL": CSR_NAME}
    if settings.database_url is not None:
        env["ST_MCP_DATABASE_URL"] = settings.database_url
    if clock is not None:
        env["ST_MCP_CLOCK"] = clock.astimezone(STORY_START.tzinfo).replace(microsecond=0).isoformat()
    return env


def _show_follow_up(env: dict[str, str]) -> None:
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    flags = " ".join(f"-e {name}={shlex.quote(value)}" for name, value in env.items())
    command = shutil.which("st-mcp") or str(Path(sys.executable).with_name("st-mcp"))
    desktop = {"mcpServers": {"st-mcp-demo (CSR)": {"command": command, "env": env}}}
    print("\nThe story's conversations stay in this store and tenant. Open them as the CSR:")
    print(f"  {assignments} {command}")
    print("  or with the MCP Inspector:")
    call = "--method tools/call --tool-name interaction_stats"
    print(f"  npx @modelcontextprotocol/inspector --cli {flags} -- {command} {call}")
    print("  or in Claude Desktop (claude_desktop_config.json):")
    print("  " + json.dumps(desktop))


async def _story(settings: Settings, upstream: Upstream) -> int:
    st = upstream.client
    tenant = upstream.sandbox_app.state.sandbox if upstream.sandbox_app is not None else None
    gateway = SandboxGateway(tenant.now if tenant is not None else None)
    story = Story(tenant, gateway)
    agent_settings = settings.model_copy(update={"identity": IdentitySettings(role="virtual_agent")})
    csr_settings = settings.model_copy(update={"identity": IdentitySettings(role="csr", principal=CSR_NAME)})
    auditor_settings = settings.model_copy(update={"identity": IdentitySettings(role="auditor")})
    ledger: list[tuple[str, int]] = []
    print(
        f"st-mcp demo — ServiceTitan tenant {st.tenant_id} ({settings.servicetitan.environment}); "
        "a scripted virtual agent and a CSR, each through a real MCP client session; texts go through "
        "the sandbox SMS gateway, whose simulated leads answer"
    )

    async with Client(create_server(agent_settings, upstream=upstream, gateway=gateway)) as agent_client:
        agent = Session(agent_client, st, "Agent", ledger)
        tools = await agent_client.list_tools()
        print(f"  the virtual agent sees {len(tools.tools)} tools")
        await _florida_lead(agent, story)
        booked = await _angi_lead(agent, story)
        escalated_id = await _website_lead(agent, story)
        await _stop_lead(agent, story)
        await _out_of_area_lead(agent, story)

        async with Client(create_server(csr_settings, upstream=upstream, gateway=gateway)) as csr_client:
            csr = Session(csr_client, st, CSR_NAME, ledger)
            await _csr_takes_over(csr, agent, story, escalated_id)
            await _csr_view(csr)
        async with Client(create_server(auditor_settings, upstream=upstream)) as auditor_client:
            await _audit_view(Session(auditor_client, st, "Auditor", ledger))
        await _after_the_booking(agent, story, agent_settings, upstream, booked)

    await _show_job(st, settings, booked)
    print("\nUpstream ServiceTitan requests per tool call (0 = answered from this server's own records):")
    for tool, made in ledger:
        print(f"  {tool:<24}{made}")
    print(f"Token endpoint calls for the whole run: {st.http.tokens.fetch_count}")
    speeds = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in story.speed)
    median = statistics.median(seconds for _, seconds in story.speed)
    print(
        f"Speed to lead, lead arrival → first text sent (wall clock): {speeds}; median {median * 1000:.0f} ms"
    )
    ended = await _last_activity(settings) if settings.servicetitan.is_sandbox else None
    _show_follow_up(follow_up_environment(settings, clock=ended))
    return 0


async def _first_touch(agent: Session, story: Story, lead: dict[str, Any], greeting: str) -> str:
    """Take the lead in, read the queue, text it — timed from arrival to the text having left."""
    started = time.perf_counter()
    taken = await agent.call("ingest_lead", lead)
    interaction = str(taken["interaction_id"])
    item = await agent.next_item()
    assert item["interaction_id"] == interaction and item["action"] == "first_touch"
    await agent.send(interaction, greeting)
    story.speed.append((lead["name"].split()[0], time.perf_counter() - started))
    return interaction


async def _florida_lead(agent: Session, story: Story) -> None:
    when = story.at(18, 30)
    print(
        f"\n{when} in Denver (8:30 pm in Tampa) — a Thumbtack lead: Marisol Vega, Tampa 33609, "
        "“AC not cooling”"
    )
    taken = await agent.call(
        "ingest_lead",
        {
            "name": "Marisol Vega",
            "phone": "(813) 555-0175",
            "zip": "33609",
            "source": "Thumbtack",
            "summary": "AC not cooling",
        },
    )
    item = await agent.next_item()
    show(
        f"queue: {item['action']} for {item['lead']['name']}, can_send_now={item['can_send_now']}, "
        f"window opens {item['send_window_opens_at']}"
    )
    print("  The agent tries to text anyway:")
    await agent.send(
        taken["interaction_id"], "Hi Marisol, Peak Home Services here about your AC!", expect_refusal=True
    )


async def _angi_lead(agent: Session, story: Story) -> dict[str, Any]:
    when = story.at(19, 45)
    print(f"\n{when} — an Angi lead arrives: Jordan Avery, (303) 555-0142, “Furnace blowing cold air”")
    story.gateway.script("+13035550142", "Yes please, as soon as you can.", "The first one works, thanks!")
    interaction = await _first_touch(
        agent,
        story,
        {
            "name": "Jordan Avery",
            "phone": "(303) 555-0142",
            "zip": "80210",
            "source": "Angi",
            "summary": "Furnace blowing cold air",
        },
        "Hi Jordan, this is Sam, Peak Home Services' virtual assistant. Sorry about the furnace! "
        "Want me to find a time for a technician?",
    )
    show(f"texted {story.speed[-1][1] * 1000:.0f} ms after the lead arrived")
    await agent.next_item()
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
    await agent.send(interaction, f"I can send a technician {', or '.join(labels)}. Which works?")
    await agent.next_item()
    chosen = offer["slots"][0]
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
    await agent.send(interaction, f"You're booked: {booked['label']}, job {booked['job_number']}.")
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


async def _after_the_booking(
    agent: Session, story: Story, settings: Settings, upstream: Upstream, booked: dict[str, Any]
) -> None:
    """Jordan's visit, from the note to the rating: the job-events watcher (the HTTP server's background
    task; one poll at a time here) texts through the same gate as the agent."""
    print("\nAfter the booking — Jordan texts: “Gate code is 4411, and the dog is in the yard”")
    await agent.call("add_job_note", {"job_id": booked["job_id"], "text": "Gate code 4411, dog in the yard"})
    eta = await agent.call("get_technician_eta", {"job_id": booked["job_id"]})
    show(f"{eta['status_text']} ({eta['label']})")
    if story.tenant is None:
        return  # a real tenant's jobs move when its technicians do
    tenant, phone = story.tenant, "+13035550142"
    async with open_app_context(settings, upstream, story.gateway) as app:
        await app.lifecycle.watcher.poll_once()  # the watcher's place in the feeds
        visit = tenant.appointments[booked["appointment_id"]]
        tenant.clock.advance(max(0.0, (visit.start - tenant.now()).total_seconds()) + 600)
        when = visit.start.astimezone(STORY_START.tzinfo)
        print(f"  {when:%a %-I:%M %p} — the dispatcher dispatches the job")
        advance_job(tenant, booked["job_id"], "Dispatched")
        await app.lifecycle.watcher.poll_once()
        show(f"text to Jordan: “{story.gateway.sent_to(phone)[-1].message.body}”")
        eta = await agent.call("get_technician_eta", {"phone": "(303) 555-0142"})
        show(f"{eta['eta']}")
        tenant.clock.advance(90 * 60)
        advance_job(tenant, booked["job_id"], "Working")
        advance_job(tenant, booked["job_id"], "Completed")
        print("  The technician completes the job; Jordan will answer the follow-up with “5”")
        story.gateway.script(phone, "5")
        await app.lifecycle.watcher.poll_once()
        for sent in story.gateway.sent_to(phone)[-2:]:
            show(f"text to Jordan: “{sent.message.body}”")
        ratings = [r.rating for r in tenant.technician_ratings.values() if r.job_id == booked["job_id"]]
        show(f"technician rating in ServiceTitan: {ratings}")


async def _website_lead(agent: Session, story: Story) -> str:
    when = story.at(20, 2)
    print(f"\n{when} — a Website lead: Priya Raman, 720.555.0118, “Water heater leaking”")
    story.gateway.script("+17205550118", "I'd rather talk to a real person, please.")
    interaction = await _first_touch(
        agent,
        story,
        {
            "name": "Priya Raman",
            "phone": "720.555.0118",
            "zip": "80302",
            "source": "Website",
            "summary": "Water heater leaking",
        },
        "Hi Priya, this is Sam from Peak Home Services. I can help with the water heater — "
        "shall I look for a time?",
    )
    await agent.next_item()
    escalation = await agent.call(
        "escalate_to_dispatcher",
        {
            "interaction_id": interaction,
            "reason": "human_request",
            "note": "Leaking water heater; wants a person.",
        },
    )
    show(f"{escalation['status']} — ServiceTitan task {escalation['servicetitan_task_number']}")
    await agent.send(interaction, "Of course — a member of our team will reach out shortly.")
    return interaction


async def _stop_lead(agent: Session, story: Story) -> None:
    when = story.at(20, 5)
    print(f"\n{when} — a Google LSA lead: Tom Becker, (303) 555-0160, “Breaker keeps tripping”")
    story.gateway.script("+13035550160", "stop texting me")
    interaction = await _first_touch(
        agent,
        story,
        {
            "name": "Tom Becker",
            "phone": "(303) 555-0160",
            "zip": "80220",
            "source": "Google LSA",
            "summary": "Breaker keeps tripping",
        },
        "Hi Tom, Sam from Peak Home Services about your breaker. Want a technician to take a look?",
    )
    replies = [sent.body for sent in story.gateway.sent_to("+13035550160")]
    print("      Lead: “stop texting me”")
    show(f"the server confirmed once, by itself: “{replies[-1]}”")
    await agent.send(interaction, "Sorry to bother you, Tom — one last thing?", expect_refusal=True)


async def _out_of_area_lead(agent: Session, story: Story) -> None:
    when = story.at(20, 10)
    print(f"\n{when} — a Thumbtack lead from Colorado Springs (ZIP 80907), outside the service area")
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


async def _csr_takes_over(csr: Session, agent: Session, story: Story, interaction: str) -> None:
    when = story.at(20, 15)
    print(f"\n{when} — {CSR_NAME} (CSR) checks what is escalated and takes it over")
    escalated = await csr.call("list_interactions", {"escalated_only": True})
    for item in escalated["items"]:
        show(f"{item['name']} · {item['phone']} · {item['status']}")
    taken = await csr.call(
        "takeover_interaction", {"interaction_id": interaction, "note": "Calling her now."}
    )
    show(taken["note"])
    await csr.send(interaction, "Hi Priya, this is Dana at Peak Home Services — calling you in a minute.")
    print("  The virtual agent tries to keep talking:")
    await agent.send(interaction, "Still there, Priya?", expect_refusal=True)


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
        f"median speed to lead {'—' if speed is None else f'{speed:.2f} s'}"
    )


async def _audit_view(auditor: Session) -> None:
    print("\nThe audit trail, as an auditor sees it (hash-chained; `st-mcp audit verify` checks it):")
    page = await auditor.call("get_audit_log", {"outcome": "blocked", "limit": 10, "verify_chain": True})
    for event in reversed(page["events"]):
        show(event["summary"])
    show(f"chain intact: {page['chain_ok']}")


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
