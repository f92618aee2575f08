"""The README's demo runs end to end on the embedded sandbox and tells the truth about what it did."""

from __future__ import annotations

import re

import pytest

from st_mcp.cli import main


def test_demo_books_and_escalates_through_a_real_mcp_session(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "ST_TENANT_ID",
        "ST_CLIENT_ID",
        "ST_CLIENT_SECRET",
        "ST_APP_KEY",
        "ST_ENVIRONMENT",
        "ST_MCP_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)

    assert main(["demo"]) == 0

    captured = capsys.readouterr()
    assert "using the sandbox ServiceTitan tenant" in captured.err
    out = captured.out
    assert "the server offers 8 tools" in out
    assert "Jordan Avery (customer 10300001), +13035550142" in out
    booked = re.search(r"job (\d+) \(id (\d+)\) booked for", out)
    assert booked is not None
    assert f"a retried booking returns job {booked.group(1)} again (replayed=True)" in out
    assert "Escalated (Human Request) — ServiceTitan task" in out
    # The closing view is read back from the tenant, not from the tool results.
    assert f"jobNumber {booked.group(1)} · jobStatus Scheduled" in out
    assert "campaign Virtual Agent · tags ['AI Booked']" in out
    assert "Token endpoint calls for the whole run: 1" in out
    assert re.search(r"book_job\s+0", out), "the replayed booking must not reach ServiceTitan"
