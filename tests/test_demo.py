"""The README's demo runs end to end on the embedded sandbox and tells the truth about what it did."""

from __future__ import annotations

import re
import shlex
from typing import Any

import anyio
import pytest
from mcp import Client

from st_mcp.cli import main
from st_mcp.config import load_settings
from st_mcp.server import create_server

CREDENTIALS = (
    "ST_TENANT_ID",
    "ST_CLIENT_ID",
    "ST_CLIENT_SECRET",
    "ST_APP_KEY",
    "ST_ENVIRONMENT",
    "ST_MCP_DATABASE_URL",
)


def test_demo_tells_the_speed_to_lead_story(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (*CREDENTIALS, "ST_MCP_CLOCK"):
        monkeypatch.delenv(name, raising=False)

    assert main(["demo"]) == 0

    captured = capsys.readouterr()
    assert "using the sandbox ServiceTitan tenant" in captured.err
    out = captured.out
    # 8:30 pm in Tampa: queued until 8:00 am, and a text is refused by the gate.
    assert "can_send_now=False, window opens 2026-03-15T08:00:00-04:00" in out
    assert "✗ refused: Not sent: outside the lead's quiet hours (Florida allows texts 8:00 AM–8:00 PM" in out
    # The Angi lead is texted at once and booked.
    booked = re.search(r"job (\d+) booked for", out)
    assert booked is not None
    assert re.search(r"texted \d+ ms after the lead arrived", out)
    assert "Escalated (Human Request) — ServiceTitan task" in out
    # "stop texting me": one confirmation from the server, then the agent is refused.
    assert "the server confirmed once, by itself: “Peak Home Services: you're unsubscribed" in out
    assert "✗ refused: Tom Becker opted out of messages and calls" in out
    assert "Dismissed: Agent: Dismissed: ZIP 80907 is outside the service area" in out
    # After the CSR's takeover the agent is refused.
    assert "✗ refused: Dana Whitfield has taken over the conversation with Priya Raman" in out
    # The CSR's view of the Interactions page and its counters.
    assert re.search(r"Takeover\s+Speed to Lead\s+Priya Raman\s+\(720\) \*\*\*-0118", out)
    assert re.search(r"Converted: Agent\s+Speed to Lead\s+Jordan Avery", out)
    assert re.search(r"Opt-out\s+Speed to Lead\s+Tom Becker", out)
    assert re.search(r"Started\s+Speed to Lead\s+Marisol Vega", out)
    assert "Conversations 5 · Escalated 0 · High Activity 0 · Response Rate 100% · Conversion Rate 20%" in out
    # The auditor sees every refusal, and the chain verifies.
    assert "gate.quiet_hours → blocked" in out and "gate.opt_out → blocked" in out
    assert "gate.takeover → blocked" in out and "chain intact: True" in out
    # The closing view is read back from the tenant, not from the tool results.
    assert f"jobNumber {booked.group(1)} · jobStatus Completed" in out
    # After the booking: the note, "on the way" with the link, the follow-up, a 5 and the review link.
    assert re.search(r"to Jordan: “Hi Jordan, \w+ from Peak Home Services is on the way, arriving by", out)
    assert "https://track.sandbox.servicetitan.invalid/t/" in out
    assert "How did" in out and "Reply with a number from 1 (poor) to 5 (excellent)" in out
    assert "Would you share that in a quick review? https://g.page/r/peak-home-services/review" in out
    assert "technician rating in ServiceTitan: [5.0]" in out
    assert "campaign Virtual Agent · tags ['AI Booked']" in out
    # The story spans 1 h 45 min of tenant time: one token per 15-minute lifetime, not one per call.
    tokens = re.search(r"Token endpoint calls for the whole run: (\d+)", out)
    assert tokens is not None and int(tokens.group(1)) <= 8
    assert re.search(
        r"Speed to lead, lead arrival → first text sent \(wall clock\): Jordan \d+ ms, .*median \d+ ms", out
    )


def test_the_demo_leaves_its_conversations_for_a_csr_to_open(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The story's store and tenant are kept; the printed command opens them as the CSR, whose counters'
    default period (the 30 days before the story's clock) covers the five conversations and Jordan's
    post-job follow-up."""
    for name in (*CREDENTIALS, "ST_MCP_CLOCK"):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    command = next(line for line in out.splitlines() if line.strip().startswith("ST_MCP_ROLE=csr"))
    environ = {name: value for name, value in (word.split("=", 1) for word in shlex.split(command)[:-1])}
    booked = re.search(r"job (\d+) booked for", out)
    assert booked is not None and environ["ST_MCP_ROLE"] == "csr"

    async def as_the_csr() -> tuple[Any, Any, Any]:
        async with Client(create_server(load_settings(environ=environ))) as csr:
            listed = await csr.call_tool("list_interactions", {})
            stats = await csr.call_tool("interaction_stats", {})
            job = await csr.call_tool("get_job_status", {"job_number": booked.group(1)})
        return listed, stats, job

    listed, stats, job = anyio.run(as_the_csr)
    assert len(listed.structured_content["items"]) == 6
    assert stats.structured_content["conversations"] == 6
    assert abs(stats.structured_content["conversion_rate"] - 1 / 6) < 0.01
    assert not job.is_error and job.structured_content["job_number"] == booked.group(1)
