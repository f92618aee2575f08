"""``AuditTrail.record_decision``: what the compliance gate, webhooks and HTTP authentication call for
decisions outside (or beneath) a tool call — chained like tool calls, masked, never raising on a failed
write."""

from __future__ import annotations

import logging

import pytest
from mcp import Client

from st_mcp.store.audit import AuditLog

from .conftest import Harness, audit_records, ok

pytestmark = pytest.mark.anyio


async def test_a_decision_outside_a_tool_call(harness: Harness, agent: Client) -> None:
    await ok(agent, "list_interactions", {})
    record = await harness.app.audit.record_decision(
        "compliance",
        principal="twilio-webhook",
        role="system",
        transport="webhook",
        name="gate.opt_out",
        outcome="blocked",
        reason="+13035550142 texted STOP at 10:29; nothing may be sent.",
        interaction_id="int_abc",
        details={"from": "+13035550142", "body": "STOP", "signature": "sig-xyz"},
    )
    assert record is not None
    stored = (await audit_records(harness))[-1]
    assert stored == record
    assert (stored.kind, stored.tool, stored.transport, stored.outcome) == (
        "compliance",
        "gate.opt_out",
        "webhook",
        "blocked",
    )
    assert stored.arguments == {"from": "+1******0142", "body": "STOP", "signature": "[redacted]"}
    assert stored.reason == "+1******0142 texted STOP at 10:29; nothing may be sent."
    assert stored.prev_hash == (await audit_records(harness))[-2].hash
    assert (await AuditLog(harness.engine).verify()).ok


async def test_a_decision_beneath_a_tool_call_takes_the_calls_transport(
    harness: Harness, agent: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ok(agent, "list_interactions", {})
    app = harness.app
    stats = app.interactions.stats

    async def gated_stats(**kwargs: object) -> object:
        await app.audit.record_decision(
            "compliance", principal="virtual_agent", role="virtual_agent", name="gate.clear", outcome="ok"
        )
        return await stats(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app.interactions, "stats", gated_stats)
    await ok(agent, "interaction_stats", {})
    decision, call = (await audit_records(harness))[-2:]
    assert (decision.tool, decision.kind, decision.transport) == ("gate.clear", "compliance", "memory")
    assert (call.tool, call.outcome) == ("interaction_stats", "ok")
    outside = await app.audit.record_decision(
        "permission", principal="anonymous", role="none", name="http.auth", outcome="denied"
    )
    assert outside is not None and outside.transport == "internal"


async def test_a_failed_write_is_logged_and_returns_none(
    harness: Harness, agent: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await ok(agent, "list_interactions", {})

    async def unavailable(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(harness.app.audit.log, "append", unavailable)
    with caplog.at_level(logging.ERROR, logger="st_mcp.audit"):
        result = await harness.app.audit.record_decision(
            "compliance", principal="p", role="r", name="gate.quiet_hours", outcome="blocked"
        )
    assert result is None
    assert any("AUDIT WRITE FAILED" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="outcome"):
        await harness.app.audit.record_decision(
            "compliance", principal="p", role="r", name="x", outcome="maybe"
        )
