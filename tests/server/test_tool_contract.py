"""The public contract of the tools (DESIGN §4): names, annotations, schemas and descriptions.

``snapshots/tools_list.json`` is the committed ``tools/list`` as clients see it, so any change to the
contract shows in review (as github-mcp-server's toolsnaps do). After an intended change, regenerate it:

    UPDATE_SNAPSHOTS=1 pytest tests/server/test_tool_contract.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from st_mcp.config import IdentitySettings
from st_mcp.server import create_server

from .conftest import MODES, Harness

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools_list.json"
SNAPSHOT_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
AGENT_TOOLS = {
    "lookup_customer",
    "create_customer",
    "get_available_slots",
    "book_job",
    "reschedule_job",
    "cancel_job",
    "get_job_status",
    "escalate_to_dispatcher",
}
CONVERSATION_TOOLS = {
    "ingest_lead",
    "get_lead_queue",
    "send_message",
    "log_message",
    "log_call",
    "update_interaction",
}
INTERACTION_TOOLS = {
    "list_interactions",
    "get_interaction",
    "interaction_stats",
    "takeover_interaction",
    "dismiss_interaction",
}
ADMIN_TOOLS = {"get_audit_log"}
LIFECYCLE_TOOLS = {
    "get_technician_eta",
    "add_job_note",
    "request_callback",
    "emergency_triage",
    "get_customer_history",
    "survey_post_job",
}
REVENUE_TOOLS = {
    "upsell_membership",
    "record_membership_interest",
    "book_maintenance_visit",
    "get_open_estimates",
    "request_invoice",
}
ALL_TOOLS = (
    AGENT_TOOLS | CONVERSATION_TOOLS | INTERACTION_TOOLS | ADMIN_TOOLS | LIFECYCLE_TOOLS | REVENUE_TOOLS
)
READ_ONLY = (
    {
        "lookup_customer",
        "get_available_slots",
        "get_job_status",
        "get_audit_log",
        "get_lead_queue",
        "upsell_membership",
        "get_open_estimates",
        "request_invoice",
    }
    | {"get_technician_eta", "emergency_triage", "get_customer_history"}
    | (
        INTERACTION_TOOLS
        - {
            "takeover_interaction",
            "dismiss_interaction",
        }
    )
)
DESTRUCTIVE = {"cancel_job", "dismiss_interaction"}
# Tools that reach ServiceTitan; the rest work on this server's own interaction records.
OPEN_WORLD = AGENT_TOOLS | REVENUE_TOOLS | {"ingest_lead", "send_message"}  # send_message texts the lead
OPEN_WORLD |= LIFECYCLE_TOOLS - {"emergency_triage"}  # triage is rules on this server alone
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


async def list_tools(client: Client) -> list[Tool]:
    return sorted((await client.list_tools()).tools, key=lambda tool: tool.name)


def snapshot_of(tools: list[Tool]) -> list[dict[str, Any]]:
    wire = [tool.model_dump(by_alias=True, mode="json", exclude_none=True) for tool in tools]
    return [{name: item.get(name) for name in SNAPSHOT_FIELDS} for item in wire]


def property_names(schema: Any) -> list[str]:
    """Every property name anywhere in a JSON schema (nested objects and $defs included)."""
    names: list[str] = []
    if isinstance(schema, dict):
        names.extend(schema.get("properties", {}))
        for value in schema.values():
            names.extend(property_names(value))
    elif isinstance(schema, list):
        for value in schema:
            names.extend(property_names(value))
    return names


async def test_the_agent_toolset_is_listed_the_same_in_both_eras(harness: Harness) -> None:
    listed = []
    for mode in MODES:
        async with harness.connect(mode) as client:
            listed.append(snapshot_of(await list_tools(client)))
    # The harness's agent lacks Send Message and audit.read, so takeover, dismissal and the audit log
    # are not listed for it.
    hidden = {"takeover_interaction", "dismiss_interaction", "get_audit_log"}
    assert {tool["name"] for tool in listed[0]} == ALL_TOOLS - hidden
    assert listed[0] == listed[1]


async def test_every_tool_declares_all_four_annotations(client: Client) -> None:
    for tool in await list_tools(client):
        hints = tool.annotations
        assert hints is not None, tool.name
        for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            assert getattr(hints, hint) is not None, f"{tool.name} leaves {hint} implicit"
        assert hints.read_only_hint is (tool.name in READ_ONLY), tool.name
        assert hints.destructive_hint is (tool.name in DESTRUCTIVE), tool.name
        assert hints.open_world_hint is (tool.name in OPEN_WORLD), f"{tool.name}: openWorldHint"
        if hints.read_only_hint:
            assert hints.idempotent_hint is True, tool.name
        assert hints.title == tool.title and tool.title, tool.name
    wire = (await client.list_tools()).model_dump(by_alias=True, mode="json")
    for tool in wire["tools"]:
        assert set(tool["annotations"]) >= {
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        }


async def test_every_tool_has_an_output_schema_in_snake_case(client: Client) -> None:
    for tool in await list_tools(client):
        schema = tool.output_schema
        assert schema is not None, f"{tool.name} has no outputSchema (structuredContent)"
        assert schema.get("type") == "object"
        names = property_names(schema)
        assert names, tool.name
        assert [n for n in names if not SNAKE.match(n)] == [], tool.name
        assert [n for n in property_names(tool.input_schema) if not SNAKE.match(n)] == [], tool.name


async def test_every_description_says_when_to_use_the_tool(client: Client) -> None:
    for tool in await list_tools(client):
        description = tool.description or ""
        assert re.search(r"\buse\b", description, re.IGNORECASE), f"{tool.name}: no 'use …' guidance"
        assert len(description) > 120, f"{tool.name}: too short to guide a model"
        assert "\n\n" in description, f"{tool.name}: a summary line, then guidance"
    # Ids are named in the contract's words, so the model can chain tools.
    slots = next(t for t in await list_tools(client) if t.name == "get_available_slots")
    assert "slot_id" in property_names(slots.output_schema)


async def test_tools_list_matches_the_committed_snapshot(harness: Harness) -> None:
    # A manager holds every permission, so the snapshot is the whole public contract.
    manager = harness.settings.model_copy(update={"identity": IdentitySettings(role="manager")})
    async with Client(create_server(manager, upstream=harness.upstream)) as client:
        current = snapshot_of(await list_tools(client))
    text = json.dumps(current, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.is_file(), "no snapshot yet: run with UPDATE_SNAPSHOTS=1 and commit the file"
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert [tool["name"] for tool in committed] == [tool["name"] for tool in current]
    for old, new in zip(committed, current, strict=True):
        assert old == new, (
            f"tools/list changed for {new['name']}; if intended, regenerate with UPDATE_SNAPSHOTS=1 "
            "and review the diff of tests/server/snapshots/tools_list.json"
        )
