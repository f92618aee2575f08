"""Every tool call through the real in-memory client leaves exactly one audit record — ok, denied, blocked
or error — with the principal, role, transport, masked arguments, reason, interaction id, upstream
request count and duration; and the chain of those records verifies."""

from __future__ import annotations

import logging

import pytest
from mcp import Client

from st_mcp.policy.audit import AuditRecord
from st_mcp.store.audit import AuditLog
from tests.server.conftest import JORDAN

from .conftest import Harness, audit_records, connect_as, ok, refused

pytestmark = pytest.mark.anyio


async def one_new_record(harness: Harness, before: int) -> AuditRecord:
    records = await audit_records(harness)
    assert len(records) == before + 1, [r.tool for r in records[before:]]
    return records[-1]


def told(tool: str, text: str) -> str:
    """The message the tool raised (the SDK prefixes it with 'Error executing tool …: ' on the wire)."""
    return text.removeprefix(f"Error executing tool {tool}: ")


async def test_an_ok_call_is_recorded_with_masked_arguments_and_its_interaction(
    harness: Harness, agent: Client
) -> None:
    lead = await ok(
        agent,
        "ingest_lead",
        {"name": "Ann Lee", "phone": "(303) 555-0188", "email": "ann.lee@example.com", "zip": "80210"},
    )
    record = await one_new_record(harness, 0)
    assert (record.seq, record.kind, record.tool, record.outcome) == (1, "tool_call", "ingest_lead", "ok")
    assert (record.principal, record.role, record.transport) == ("virtual_agent", "virtual_agent", "memory")
    assert record.arguments["phone"] == "(***) ***-0188"
    assert record.arguments["email"] == "a***@example.com"
    assert record.arguments["name"] == "Ann Lee"
    assert record.interaction_id == lead["interaction_id"]  # created by the call, taken from its result
    assert record.reason is None
    assert record.duration_ms > 0
    assert record.at == harness.clock.now()  # the server's clock (the sandbox's, in tests)


async def test_upstream_requests_are_counted(harness: Harness, agent: Client) -> None:
    await ok(agent, "lookup_customer", {"phone": "303-555-0142"})
    record = await one_new_record(harness, 0)
    assert record.outcome == "ok" and record.upstream_requests >= 1
    assert record.upstream_requests == harness.app.calls[-1].upstream_requests
    assert record.arguments == {"phone": "***-***-0142"}


async def test_a_call_the_role_may_not_make_is_recorded_as_denied(harness: Harness) -> None:
    async with connect_as(harness, "auditor", "Avery Auditor") as auditor:
        text = await refused(auditor, "ingest_lead", {"name": "Ann Lee", "phone": "3035550188"})
    assert "may not call ingest_lead" in text
    record = await one_new_record(harness, 0)
    assert (record.tool, record.outcome, record.principal, record.role) == (
        "ingest_lead",
        "denied",
        "Avery Auditor",
        "auditor",
    )
    assert record.reason == told("ingest_lead", text)
    assert record.upstream_requests == 0
    assert record.arguments["phone"] == "******0188"


async def test_bad_input_is_recorded_as_an_error_with_what_the_caller_was_told(
    harness: Harness, agent: Client
) -> None:
    text = await refused(agent, "get_interaction", {"interaction_id": "int_missing"})
    record = await one_new_record(harness, 0)
    assert (record.tool, record.outcome) == ("get_interaction", "error")
    assert (
        record.reason
        == told("get_interaction", text)
        == ("No interaction with id 'int_missing'. Use list_interactions to find it.")
    )
    assert record.interaction_id == "int_missing"


async def test_our_own_failure_is_an_error_whose_reason_carries_the_error_id(
    harness: Harness, agent: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ok(agent, "list_interactions", {})  # connect, so the app context exists

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database on fire: password=hunter2")

    monkeypatch.setattr(harness.app.interactions, "stats", broken)
    text = await refused(agent, "interaction_stats", {})
    record = await one_new_record(harness, 1)
    assert record.outcome == "error" and record.reason == told("interaction_stats", text)
    assert "error id" in text and "hunter2" not in (record.reason or "")


async def test_a_compliance_refusal_is_recorded_as_blocked_with_its_rule(
    harness: Harness, agent: Client
) -> None:
    lead = await ok(agent, "ingest_lead", {"name": "Jordan Avery", "phone": "303-555-0142", "zip": "80210"})
    key = lead["interaction_id"]
    async with connect_as(harness, "csr", "dana") as csr:
        await ok(csr, "takeover_interaction", {"interaction_id": key})
    before = len(await audit_records(harness))
    # By phone, not id: the interaction comes from the Blocked refusal itself.
    arguments = {"phone": "(303) 555-0142", "direction": "outbound", "text": "Still there?"}
    text = await refused(agent, "log_message", arguments)
    gate, record = (await audit_records(harness))[before:]  # the gate's decision, then the call
    assert (gate.kind, gate.tool, gate.outcome, gate.transport) == (
        "compliance",
        "gate.takeover",
        "blocked",
        "memory",
    )
    assert gate.interaction_id == key
    assert (record.kind, record.tool, record.outcome) == ("tool_call", "log_message", "blocked")
    assert record.principal == "virtual_agent"
    assert record.reason == f"takeover: {told('log_message', text)}"
    assert "dana has taken over the conversation with Jordan Avery" in record.reason
    assert record.interaction_id == key
    takeover = (await audit_records(harness))[before - 1]
    assert (takeover.tool, takeover.principal, takeover.role, takeover.outcome) == (
        "takeover_interaction",
        "dana",
        "csr",
        "ok",
    )


async def test_every_call_leaves_exactly_one_record_and_the_chain_verifies(
    harness: Harness, agent: Client
) -> None:
    calls = [
        ("lookup_customer", {"customer_id": JORDAN}),
        ("get_interaction", {"interaction_id": "int_missing"}),
        ("ingest_lead", {"name": "Ann Lee", "phone": "3035550188", "zip": "80210"}),
        ("list_interactions", {"limit": 5}),
        ("get_audit_log", {}),
        ("interaction_stats", {}),
    ]
    for tool, arguments in calls:
        await agent.call_tool(tool, arguments)
    records = await audit_records(harness)
    assert [r.tool for r in records] == [tool for tool, _ in calls]
    assert [r.seq for r in records] == list(range(1, len(calls) + 1))
    assert [r.outcome for r in records][4] == "denied"  # the agent has no audit.read
    assert (await AuditLog(harness.engine).verify()).ok


async def test_a_failed_audit_write_is_logged_loudly_and_the_answer_stands(
    harness: Harness, agent: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await ok(agent, "list_interactions", {})

    async def unavailable(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(harness.app.audit.log, "append", unavailable)
    with caplog.at_level(logging.ERROR, logger="st_mcp.audit"):
        lead = await ok(agent, "ingest_lead", {"name": "Ann Lee", "phone": "3035550188", "zip": "80210"})
    assert lead["interaction_id"]
    assert any(
        "AUDIT WRITE FAILED" in r.getMessage() and "ingest_lead" in r.getMessage() for r in caplog.records
    )
