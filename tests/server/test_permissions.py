"""Permissions decided in one place: every tool, resource, resource template and prompt × every role, in
the lists and on call, read, render and completion (each attempt one audit record); the read-only switch
and toolsets; call data hidden without Listen to Call Recording."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, PromptReference, ResourceTemplateReference

from st_mcp.config import AccessSettings, IdentitySettings
from st_mcp.policy.permissions import DEFAULT_ROLES
from st_mcp.server import create_server
from st_mcp.server.tools.registry import TOOLS
from st_mcp.store.audit import AuditLog

from .conftest import Harness, ok

pytestmark = pytest.mark.anyio

ROLES = sorted(DEFAULT_ROLES)
# Arguments of the right shape for every tool, so a call reaches the guard (schema validation comes first).
ARGUMENTS: dict[str, dict[str, Any]] = {
    "lookup_customer": {"phone": "3035550142"},
    "create_customer": {"name": "A B", "phone": "3035550100", "street": "1 Main St", "city": "Denver",
                        "state": "CO", "zip": "80210"},
    "get_available_slots": {"job_type": "Heating Repair", "zip": "80210"},
    "book_job": {"customer_id": 1, "location_id": 1, "slot_id": "slot1.x.y", "summary": "x"},
    "reschedule_job": {"job_id": 1, "slot_id": "slot1.x.y"},
    "cancel_job": {"job_id": 1, "reason": "x"},
    "get_job_status": {"job_number": "1"},
    "escalate_to_dispatcher": {"reason": "human_request", "note": "x", "phone": "3035550142"},
    "ingest_lead": {"name": "A B", "phone": "3035550100"},
    "get_lead_queue": {},
    "send_message": {"interaction_id": "int_missing", "text": "hi"},
    "log_message": {"interaction_id": "int_missing", "direction": "inbound", "text": "hi"},
    "log_call": {"interaction_id": "int_missing", "direction": "inbound", "transcript": "hi",
                 "duration_seconds": 1},
    "update_interaction": {"interaction_id": "int_missing", "summary": "x"},
    "list_interactions": {},
    "get_interaction": {"interaction_id": "int_missing"},
    "interaction_stats": {},
    "takeover_interaction": {"interaction_id": "int_missing"},
    "dismiss_interaction": {"interaction_id": "int_missing", "reason": "x"},
    "get_audit_log": {},
    "upsell_membership": {"customer_id": 1},
    "record_membership_interest": {"customer_id": 1, "note": "x"},
    "book_maintenance_visit": {"customer_id": 1},
    "get_open_estimates": {"customer_id": 1},
    "request_invoice": {"invoice_id": 1},
    "get_technician_eta": {"job_number": "1"},
    "add_job_note": {"job_id": 1, "text": "gate code 4411"},
    "request_callback": {"reason": "x", "phone": "3035550142"},
    "emergency_triage": {"description": "AC a bit weak"},
    "get_customer_history": {"customer_id": 1},
    "survey_post_job": {"job_id": 1},
}  # fmt: skip


def allowed(role: str, tool: str) -> bool:
    spec = next(s for s in TOOLS if s.name == tool)
    return any(p in DEFAULT_ROLES[role] for p in spec.permissions)


def test_every_tool_has_arguments_here_and_a_declared_permission() -> None:
    assert {s.name for s in TOOLS} == set(ARGUMENTS)
    assert all(s.permissions for s in TOOLS)


async def connect_as(harness: Harness, role: str, **access: Any) -> Client:
    settings = harness.settings.model_copy(
        update={
            "identity": IdentitySettings(role=role, principal=f"test-{role}"),
            "access": AccessSettings(**access),
        }
    )
    return Client(create_server(settings, upstream=harness.upstream))


@pytest.fixture(params=ROLES)
async def as_role(request: pytest.FixtureRequest, harness: Harness) -> AsyncIterator[tuple[str, Client]]:
    async with await connect_as(harness, request.param) as client:
        yield request.param, client


async def test_permission_matrix_in_tools_list_and_on_call(as_role: tuple[str, Client]) -> None:
    role, client = as_role
    listed = {tool.name for tool in (await client.list_tools()).tools}
    assert listed == {name for name in ARGUMENTS if allowed(role, name)}
    for tool, arguments in ARGUMENTS.items():
        result = await client.call_tool(tool, arguments)
        text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
        if allowed(role, tool):
            assert f"may not call {tool}" not in text, (role, tool, text)
        else:
            assert result.is_error, (role, tool)
            assert f"The role '{role}' may not call {tool}" in text, text


# Every resource, template and prompt with the permission DESIGN §4 gives it — written out here rather
# than read from the code, so changing a declaration fails this test.
JOB_TYPES, INTERACTION = "servicetitan://job-types", "interaction://{interaction_id}"
JOB_TYPE = "servicetitan://job-types/{job_type}"
LEAD_QUEUE = "lead-queue://now"
DOORS: dict[str, str] = {
    JOB_TYPES: "capacity.read",
    LEAD_QUEUE: "agent.converse",
    JOB_TYPE: "capacity.read",
    INTERACTION: "chats.view",
    "csr_daily_triage": "chats.view",
    "interaction_overview_summary": "chats.view",
    "speed_to_lead_sms": "agent.converse",
    "speed_to_lead_voice": "agent.converse",
    "inbound_receptionist": "agent.converse",
    "maintenance_reminder": "agent.converse",
    "estimate_follow_up": "agent.converse",
    "post_job_follow_up": "agent.converse",
}
PROMPTS = [name for name in DOORS if "://" not in name]


def may(role: str, door: str, *also: str) -> bool:
    return all(permission in DEFAULT_ROLES[role] for permission in (DOORS[door], *also))


async def attempt(call: Any) -> str | None:
    """None when the request succeeded, else the protocol error's message (it must be -32602 or -32603)."""
    try:
        await call
    except MCPError as exc:
        assert exc.error.code in (INVALID_PARAMS, -32603), exc.error
        return exc.error.message
    return None


async def test_permission_matrix_for_resources_templates_and_prompts(
    harness: Harness, as_role: tuple[str, Client]
) -> None:
    role, client = as_role
    resources = {str(r.uri) for r in (await client.list_resources()).resources}
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    prompts = {p.name for p in (await client.list_prompts()).prompts}
    assert resources == {door for door in (JOB_TYPES, LEAD_QUEUE) if may(role, door)}
    assert templates == {door for door in (JOB_TYPE, INTERACTION) if may(role, door)}
    assert prompts == {name for name in PROMPTS if may(role, name)}

    log = AuditLog(harness.engine)
    before = len([record async for record in log.iter_since()])
    expected: list[tuple[str, str, str, bool]] = []  # (kind, door, what the refusal names, allowed)
    reads = {
        JOB_TYPES: JOB_TYPES,
        LEAD_QUEUE: LEAD_QUEUE,
        JOB_TYPE: "servicetitan://job-types/no%20heat",
        INTERACTION: "interaction://int_missing",
    }
    for door, uri in reads.items():
        expected.append(("resource_read", door, f"read {door}", may(role, door)))
        message = await attempt(client.read_resource(uri))
        assert_refused_or_not(role, expected[-1], message)
    for name in PROMPTS:
        arguments = {} if name == "csr_daily_triage" else {"interaction_id": "int_missing"}
        expected.append(("prompt_get", name, f"render the prompt {name}", may(role, name)))
        message = await attempt(client.get_prompt(name, arguments))
        assert_refused_or_not(role, expected[-1], message)
    # Completing an interaction id lists conversations: it needs View Customer Chats as well.
    completions: list[tuple[Any, str, str]] = [
        (PromptReference(type="ref/prompt", name=name), name, "interaction_id") for name in PROMPTS[1:]
    ]
    completions.append(
        (PromptReference(type="ref/prompt", name="csr_daily_triage"), "csr_daily_triage", "since")
    )
    for template, argument in ((INTERACTION, "interaction_id"), (JOB_TYPE, "job_type")):
        completions.append((ResourceTemplateReference(type="ref/resource", uri=template), template, argument))
    for ref, door, argument in completions:
        also = ("chats.view",) if argument == "interaction_id" else ()
        expected.append(("completion", door, f"complete {argument} of {door}", may(role, door, *also)))
        message = await attempt(client.complete(ref, {"name": argument, "value": ""}))
        assert_refused_or_not(role, expected[-1], message)

    records = [record async for record in log.iter_since()][before:]
    assert [(r.kind, r.tool) for r in records] == [(kind, door) for kind, door, _, _ in expected]
    for record, (_, _, _, allowed_) in zip(records, expected, strict=True):
        assert (record.outcome == "denied") is not allowed_, (role, record.tool, record.outcome)
        assert (record.role, record.principal) == (role, f"test-{role}")


def assert_refused_or_not(role: str, expected: tuple[str, str, str, bool], message: str | None) -> None:
    _, door, action, allowed_ = expected
    if allowed_:
        assert message is None or "may not" not in message, (role, door, message)
    else:
        assert message is not None and message.startswith(f"The role '{role}' may not {action}"), message


async def test_read_only_drops_every_writing_tool(harness: Harness) -> None:
    async with await connect_as(harness, "manager", read_only=True) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert listed == {s.name for s in TOOLS if s.annotations.read_only_hint}
        with pytest.raises(MCPError) as refused:  # not registered at all: an unknown tool
            await client.call_tool("book_job", ARGUMENTS["book_job"])
        assert refused.value.error.code == INVALID_PARAMS
        assert (
            refused.value.error.message == "Unknown tool 'book_job'. tools/list names the tools you may call."
        )


async def test_toolsets_keep_the_list_short(harness: Harness) -> None:
    async with await connect_as(harness, "manager", toolsets=["interactions"]) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
    assert listed == {s.name for s in TOOLS if s.toolset == "interactions"}


async def test_csr_without_send_message_sees_chats_but_cannot_take_over(
    harness: Harness, client: Client
) -> None:
    agent = client
    lead = await ok(agent, "ingest_lead", {"name": "Ann Lee", "phone": "3035550188", "zip": "80210"})
    key = lead["interaction_id"]
    call = {
        "interaction_id": key,
        "direction": "inbound",
        "transcript": "My AC died.",
        "duration_seconds": 42,
    }
    await ok(agent, "log_call", {**call, "recording_url": "https://rec.example/1"})
    viewer_roles = {"csr_viewer": ["chats.view"]}
    async with await connect_as(harness, "csr_viewer", roles=viewer_roles) as viewer:
        listed = {tool.name for tool in (await viewer.list_tools()).tools}
        assert "get_interaction" in listed and "takeover_interaction" not in listed
        detail = await ok(viewer, "get_interaction", {"interaction_id": key})
        assert all(item["kind"] != "call" for item in detail["thread"])
        assert "hidden" in (detail["hidden"] or "") and "Listen to Call Recording" in detail["hidden"]
        refused = await viewer.call_tool("takeover_interaction", {"interaction_id": key})
        assert refused.is_error and "chats.send" in refused.content[0].text  # type: ignore[union-attr]
    async with await connect_as(harness, "csr") as csr:
        detail = await ok(csr, "get_interaction", {"interaction_id": key})
        call = next(item for item in detail["thread"] if item["kind"] == "call")
        assert call["text"] == "My AC died." and call["recording_url"] == "https://rec.example/1"
        taken = await ok(csr, "takeover_interaction", {"interaction_id": key})
        assert taken["status"] == "Takeover"
