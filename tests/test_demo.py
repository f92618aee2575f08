"""The README's demo runs end to end on the embedded sandbox and tells the truth about what it did."""

from __future__ import annotations

import re

import pytest

from st_mcp.cli import main

CREDENTIALS = (
    "ST_TENANT_ID",
    "ST_CLIENT_ID",
    "ST_CLIENT_SECRET",
    "ST_APP_KEY",
    "ST_ENVIRONMENT",
    "ST_MCP_DATABASE_URL",
)


def test_demo_story_books_escalates_and_hands_over(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)

    assert main(["demo"]) == 0

    captured = capsys.readouterr()
    assert "using the sandbox ServiceTitan tenant" in captured.err
    out = captured.out
    booked = re.search(r"job (\d+) booked for", out)
    assert booked is not None
    assert "status now Active: Hot" in out
    assert "Escalated (Human Request) — ServiceTitan task" in out
    assert "Dismissed: Agent: Dismissed: ZIP 80907 is outside the service area" in out
    # After the CSR's takeover the agent is refused.
    assert "✗ refused: Dana Whitfield has taken over the conversation with Priya Raman" in out
    # The CSR's view of the Interactions page.
    assert re.search(r"Takeover\s+Speed to Lead\s+Priya Raman\s+\(720\) \*\*\*-0118", out)
    assert re.search(r"Converted: Agent\s+Speed to Lead\s+Jordan Avery", out)
    assert "Conversations 3 · Escalated 0 · High Activity 0 · Response Rate 100% · Conversion Rate 33%" in out
    # The closing view is read back from the tenant, not from the tool results.
    assert f"jobNumber {booked.group(1)} · jobStatus Scheduled" in out
    assert "campaign Virtual Agent · tags ['AI Booked']" in out
    assert "Token endpoint calls for the whole run: 1" in out
