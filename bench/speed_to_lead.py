"""Benchmark: a lead arrives → the first text leaves, and the subscribed agent hears of it.

One server on the sandbox tenant with an operator-approved instant first text (``[speed_to_lead]
instant_reply``), the sandbox SMS gateway, an agent subscribed to ``lead-queue://now`` and an intake
client that calls ``ingest_lead`` (a web form, a webhook). Times, per lead, from the intake call to the
text in the gateway's outbox and to the agent's ``notifications/resources/updated`` — no polling.

    python bench/speed_to_lead.py --leads 20
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client

from st_mcp.config import load_settings
from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.server import create_server
from st_mcp.server.lead_feed import LEAD_QUEUE_URI
from st_mcp.services.outreach.instant import SpeedToLeadSettings
from st_mcp.upstream import connect_servicetitan

TEMPLATE = "Hi {first_name}, it's {agent_name} at {company} — thanks for reaching out! What's going on?"
BUSINESS_HOURS = "2026-03-10T10:00:00-06:00"


async def main(leads: int) -> None:
    logging.disable(logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="st-mcp-bench-"))
    settings = load_settings(
        environ={
            "ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'st.db'}",
            "ST_MCP_CLOCK": BUSINESS_HOURS,
        }
    )
    settings = settings.model_copy(update={"speed_to_lead": SpeedToLeadSettings(instant_reply=TEMPLATE)})
    upstream = connect_servicetitan(settings.servicetitan)
    gateway = SandboxGateway()
    server = create_server(settings, upstream=upstream, gateway=gateway)
    to_text: list[float] = []
    to_agent: list[float] = []
    async with (
        upstream.client,
        Client(server) as agent,
        Client(server) as intake,
        agent.listen(resource_subscriptions=[LEAD_QUEUE_URI]) as subscription,
    ):
        events = aiter(subscription)
        for n in range(leads):
            phone = f"(303) 555-{2000 + n:04d}"
            started = time.perf_counter()
            async with anyio.create_task_group() as tg:

                async def heard(began: float = started) -> None:
                    await anext(events)
                    to_agent.append(time.perf_counter() - began)

                tg.start_soon(heard)
                result = await intake.call_tool(
                    "ingest_lead",
                    {"name": f"Lead {n}", "phone": phone, "zip": "80210", "source": "Website"},
                )
                assert not result.is_error, result.content
            sent = gateway.sent_to(f"+1303555{2000 + n:04d}")
            assert sent, "the instant first text did not leave"
            to_text.append(time.perf_counter() - started)
    print(f"speed to lead, {leads} leads, instant first text on, agent subscribed (no polling)")
    for label, samples in (("lead → first text sent", to_text), ("lead → agent notified", to_agent)):
        ordered = sorted(samples)
        p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
        print(f"  {label:<24} median {statistics.median(ordered) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20)
    anyio.run(main, parser.parse_args().leads)
