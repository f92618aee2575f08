"""``get_audit_log``: newest first, filtered by principal, tool, outcome and time, paged by cursor, each
event with a one-line summary; auditors and managers may read it, a CSR or the agent may not."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from .conftest import FIXED_NOW, Harness, connect_as, ok, refused

pytestmark = pytest.mark.anyio


async def some_activity(harness: Harness, agent: Client) -> str:
    """Agent ingests a lead (ok) and trips over a bad id (error); dana takes the lead over (ok); the agent
    is then blocked from messaging it (the gate's decision, then the call); and calls the audit log
    without audit.read (denied)."""
    lead = await ok(agent, "ingest_lead", {"name": "Ann Lee", "phone": "3035550188", "zip": "80210"})
    key = str(lead["interaction_id"])
    await refused(agent, "get_interaction", {"interaction_id": "int_missing"})
    async with connect_as(harness, "csr", "dana") as csr:
        await ok(csr, "takeover_interaction", {"interaction_id": key})
    await refused(agent, "log_message", {"interaction_id": key, "direction": "outbound", "text": "Hi?"})
    await refused(agent, "get_audit_log", {})
    return key


async def page(client: Client, **arguments: Any) -> dict[str, Any]:
    return await ok(client, "get_audit_log", arguments)


async def test_an_auditor_reads_the_trail_newest_first_with_summaries(
    harness: Harness, agent: Client
) -> None:
    key = await some_activity(harness, agent)
    async with connect_as(harness, "auditor", "avery") as auditor:
        events = (await page(auditor))["events"]
    assert [(e["tool"], e["outcome"]) for e in events] == [
        ("get_audit_log", "denied"),
        ("log_message", "blocked"),
        ("gate.takeover", "blocked"),
        ("takeover_interaction", "ok"),
        ("get_interaction", "error"),
        ("ingest_lead", "ok"),
    ]
    assert [e["seq"] for e in events] == [6, 5, 4, 3, 2, 1]
    assert [e["kind"] for e in events].count("compliance") == 1
    takeover = events[3]
    assert takeover["summary"] == f"10:30 dana (csr) takeover_interaction → ok, {key}"
    assert takeover["transport"] == "memory" and takeover["kind"] == "tool_call"
    blocked = events[1]
    assert blocked["summary"].startswith(
        f"10:30 virtual_agent (virtual_agent) log_message → blocked, {key}: takeover: dana has taken over"
    )
    assert blocked["interaction_id"] == key
    assert events[-1]["arguments"]["phone"] == "******0188"
    assert events[-1]["at"].startswith(FIXED_NOW.strftime("%Y-%m-%dT%H:%M"))


async def test_filters_by_principal_tool_outcome_and_time(harness: Harness, agent: Client) -> None:
    await some_activity(harness, agent)
    async with connect_as(harness, "manager", "morgan") as manager:
        assert [e["tool"] for e in (await page(manager, principal="dana"))["events"]] == [
            "takeover_interaction"
        ]
        assert [e["seq"] for e in (await page(manager, tool="ingest_lead"))["events"]] == [1]
        blocked = (await page(manager, outcome="blocked"))["events"]
        assert [e["tool"] for e in blocked] == ["log_message", "gate.takeover"]
        errors = (await page(manager, outcome="error", principal="virtual_agent"))["events"]
        assert [e["tool"] for e in errors] == ["get_interaction"]
        assert (await page(manager, since="2026-05-05T16:31:00Z"))["events"] == []
        window = {"since": "2026-05-05T10:30:00-06:00", "until": "2026-05-05T16:31:00Z"}
        agents = await page(manager, principal="virtual_agent", **window)
        assert [e["seq"] for e in agents["events"]] == [6, 5, 4, 2, 1]


async def test_the_cursor_pages_through_without_overlap(harness: Harness, agent: Client) -> None:
    await some_activity(harness, agent)
    async with connect_as(harness, "auditor", "avery") as auditor:
        seen: list[int] = []
        cursor = None
        for _ in range(10):
            arguments: dict[str, Any] = {"limit": 2}
            if cursor:
                arguments["cursor"] = cursor
            result = await page(auditor, **arguments)
            seen.extend(e["seq"] for e in result["events"])
            cursor = result["next_cursor"]
            if cursor is None:
                break
        # The auditor's own reads are recorded as they happen, but a cursor only reaches back.
        assert seen == [6, 5, 4, 3, 2, 1]
        text = await refused(auditor, "get_audit_log", {"cursor": "not-a-cursor"})
        assert "cursor is not valid" in text


async def test_verify_chain_reports_on_the_whole_trail(harness: Harness, agent: Client) -> None:
    await some_activity(harness, agent)
    async with connect_as(harness, "auditor", "avery") as auditor:
        plain = await page(auditor, limit=1)
        assert plain["chain_ok"] is None
        checked = await page(auditor, limit=1, verify_chain=True)
        assert checked["chain_ok"] is True and checked["chain_problem"] is None


@pytest.mark.parametrize(("role", "allowed"), [("csr", False), ("dispatcher", False), ("auditor", True)])
async def test_only_roles_with_audit_read_see_and_call_it(harness: Harness, role: str, allowed: bool) -> None:
    async with connect_as(harness, role, f"test-{role}") as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert ("get_audit_log" in listed) is allowed
        result = await client.call_tool("get_audit_log", {})
        assert result.is_error is not allowed
    async with connect_as(harness, "manager", "morgan") as manager:
        last = (await page(manager, tool="get_audit_log", limit=2))["events"]
    # A read is recorded once it has answered, so the manager's own read is not in it yet.
    assert [(e["principal"], e["outcome"]) for e in last] == [(f"test-{role}", "ok" if allowed else "denied")]


async def test_the_tool_declares_its_contract(harness: Harness) -> None:
    async with connect_as(harness, "manager", "morgan") as manager:
        spec = next(t for t in (await manager.list_tools()).tools if t.name == "get_audit_log")
    hints = spec.annotations
    assert hints is not None
    assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint) == (
        True,
        False,
        True,
        False,
    )
    assert spec.output_schema is not None and "events" in spec.output_schema["properties"]
    assert "Use for" in (spec.description or "") and "\n\n" in (spec.description or "")
