"""Every MCP door behind the guard: resources, templates, prompts and completions are permission-checked
and audited like tool calls; protocol errors carry the right codes and no tracebacks; arguments forgive
form, not meaning; initialize speaks to the principal; logging and progress reach the client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    LoggingMessageNotificationParams,
    PromptReference,
    ResourceTemplateReference,
)

import st_mcp
from st_mcp.config import AccessSettings, IdentitySettings
from st_mcp.policy.audit import AuditRecord
from st_mcp.server import create_server
from st_mcp.store.audit import AuditLog

from .conftest import JORDAN, JORDAN_LOCATION, MODES, Harness, booking_args, new_interaction, ok, refused

pytestmark = pytest.mark.anyio

INTERACTION = "interaction://{interaction_id}"


def connect_as(harness: Harness, role: str, mode: str = "auto", **access: Any) -> Client:
    settings = harness.settings.model_copy(
        update={
            "identity": IdentitySettings(role=role, principal=f"test-{role}"),
            "access": AccessSettings(**access),
        }
    )
    return Client(create_server(settings, upstream=harness.upstream), mode=mode)  # type: ignore[arg-type]


async def records(harness: Harness) -> list[AuditRecord]:
    return [record async for record in AuditLog(harness.engine).iter_since()]


@pytest.fixture(params=MODES)
async def agent(request: pytest.FixtureRequest, harness: Harness) -> AsyncIterator[Client]:
    async with harness.connect(request.param) as connected:
        yield connected


async def protocol_error(call: Any) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await call
    return caught.value


# -- the guard ----------------------------------------------------------------------------------------
async def test_without_chats_view_no_door_opens_on_an_interaction_and_each_attempt_is_audited(
    harness: Harness, agent: Client
) -> None:
    interaction_id = await new_interaction(agent, "Ann Lee", "3035550188")
    # The default virtual agent converses with leads but may not view the CSRs' conversations.
    async with connect_as(harness, "virtual_agent") as bot:
        before = len(await records(harness))
        templates = (await bot.list_resource_templates()).resource_templates
        assert INTERACTION not in {t.uri_template for t in templates}
        listed = await refused(bot, "list_interactions", {})
        assert "chats.view" in listed
        read = await protocol_error(bot.read_resource(f"interaction://{interaction_id}"))
        ref = ResourceTemplateReference(type="ref/resource", uri=INTERACTION)
        completed = await protocol_error(bot.complete(ref, {"name": "interaction_id", "value": "int_"}))
        prompt_ref = PromptReference(type="ref/prompt", name="speed_to_lead_sms")
        completed_for_prompt = await protocol_error(
            bot.complete(prompt_ref, {"name": "interaction_id", "value": ""})
        )
        for error in (read, completed, completed_for_prompt):
            assert error.error.code == INVALID_PARAMS
            assert "may not" in error.error.message and "chats.view" in error.error.message
            assert interaction_id not in error.error.message
        audited = (await records(harness))[before:]
    assert [(r.kind, r.tool, r.outcome) for r in audited] == [
        ("tool_call", "list_interactions", "denied"),
        ("resource_read", INTERACTION, "denied"),
        ("completion", INTERACTION, "denied"),
        ("completion", "speed_to_lead_sms", "denied"),
    ]
    assert audited[1].interaction_id == interaction_id
    assert all(r.principal == "test-virtual_agent" for r in audited)


async def test_allowed_reads_renders_and_completions_are_audited_with_masking(
    harness: Harness, agent: Client
) -> None:
    interaction_id = await new_interaction(agent, "Ann Lee", "3035550188")
    before = len(await records(harness))
    await agent.read_resource(f"interaction://{interaction_id}")
    await agent.get_prompt("interaction_overview_summary", {"interaction_id": interaction_id})
    ref = ResourceTemplateReference(type="ref/resource", uri=INTERACTION)
    await agent.complete(ref, {"name": "interaction_id", "value": "(303) 555-0188"})
    audited = (await records(harness))[before:]
    assert [(r.kind, r.tool, r.outcome) for r in audited] == [
        ("resource_read", INTERACTION, "ok"),
        ("prompt_get", "interaction_overview_summary", "ok"),
        ("completion", INTERACTION, "ok"),
    ]
    assert audited[0].arguments == {
        "uri": f"interaction://{interaction_id}",
        "interaction_id": interaction_id,
    }
    assert audited[0].interaction_id == audited[1].interaction_id == interaction_id
    assert audited[2].arguments == {"argument": "interaction_id", "value": "(***) ***-0188"}
    ingest = (await records(harness))[before - 1]
    assert all(r.transport == ingest.transport and r.duration_ms >= 0 for r in audited)


async def test_an_interaction_completes_from_the_conversations_the_principal_may_see(
    harness: Harness, agent: Client
) -> None:
    first = await new_interaction(agent, "Ann Lee", "3035550188")
    second = await new_interaction(agent, "Bo Diaz", "3035550177")
    ref = ResourceTemplateReference(type="ref/resource", uri=INTERACTION)
    everything = (await agent.complete(ref, {"name": "interaction_id", "value": ""})).completion
    assert {first, second} <= set(everything.values)
    by_prefix = (await agent.complete(ref, {"name": "interaction_id", "value": first[:-2]})).completion
    assert first in by_prefix.values
    assert second not in by_prefix.values or first[:-2] == second[:-2]
    by_name = (await agent.complete(ref, {"name": "interaction_id", "value": "Bo Diaz"})).completion
    assert by_name.values == [second]
    job_type = ResourceTemplateReference(type="ref/resource", uri="servicetitan://job-types/{job_type}")
    heat = (await agent.complete(job_type, {"name": "job_type", "value": "heat"})).completion
    assert "Heating Repair" in heat.values and "no heat" in heat.values  # names and aliases
    assert all("heat" in value.casefold() for value in heat.values)
    prompt = PromptReference(type="ref/prompt", name="csr_daily_triage")
    since = (await agent.complete(prompt, {"name": "since", "value": "2026-05"})).completion
    assert since.values and all(value.startswith("2026-05") for value in since.values)


async def test_a_resource_registered_without_a_door_is_hidden_and_unreadable(harness: Harness) -> None:
    server = create_server(harness.settings, upstream=harness.upstream)

    @server.resource("secret://notes", name="notes", description="Forgot to declare a permission.")
    def notes() -> str:
        return "the lead's unmasked phone: 303-555-0188"

    async with Client(server) as client:
        assert "secret://notes" not in {str(r.uri) for r in (await client.list_resources()).resources}
        error = await protocol_error(client.read_resource("secret://notes"))
    assert error.error.code == INVALID_PARAMS and "0188" not in error.error.message


async def test_only_a_door_s_own_arguments_complete(harness: Harness, agent: Client) -> None:
    before = len(await records(harness))
    triage = PromptReference(type="ref/prompt", name="csr_daily_triage")
    error = await protocol_error(agent.complete(triage, {"name": "job_type", "value": "heat"}))
    assert error.error.code == INVALID_PARAMS
    assert error.error.message == "argument: csr_daily_triage has no argument 'job_type' (it has: since)"
    (record,) = (await records(harness))[before:]
    assert (record.kind, record.tool, record.outcome) == ("completion", "csr_daily_triage", "error")


async def test_a_prompt_without_a_declared_permission_needs_view_customer_chats(
    harness: Harness, tmp_path: Any
) -> None:
    extra = tmp_path / "prompts"
    extra.mkdir()
    (extra / "weekly.md").write_text(
        "---\nname: weekly_report\ndescription: A weekly report\n---\nThe week at $company_name.\n"
    )
    settings = harness.settings.model_copy(
        update={
            "prompts_dir": str(extra),
            "identity": IdentitySettings(role="virtual_agent"),
            "access": AccessSettings(),  # the default virtual agent, without chats.view
        }
    )
    async with Client(create_server(settings, upstream=harness.upstream)) as bot:
        assert "weekly_report" not in {p.name for p in (await bot.list_prompts()).prompts}
        error = await protocol_error(bot.get_prompt("weekly_report", {}))
        assert "chats.view" in error.error.message


async def test_an_operator_override_keeps_the_shipped_prompt_s_permission(
    harness: Harness, tmp_path: Any
) -> None:
    extra = tmp_path / "prompts"
    extra.mkdir()
    (extra / "sms.md").write_text(
        "---\nname: speed_to_lead_sms\ndescription: Ours\narguments:\n  - name: interaction_id\n"
        "    required: true\n---\nText $lead_name back.\n"
    )
    for role, visible in (("virtual_agent", True), ("auditor", False)):
        settings = harness.settings.model_copy(
            update={
                "prompts_dir": str(extra),
                "identity": IdentitySettings(role=role),
                "access": AccessSettings(),
            }
        )
        async with Client(create_server(settings, upstream=harness.upstream)) as client:
            listed = {p.name: p for p in (await client.list_prompts()).prompts}
        assert ("speed_to_lead_sms" in listed) is visible, role
        if visible:
            assert listed["speed_to_lead_sms"].description == "Ours"


# -- protocol ------------------------------------------------------------------------------------------
async def test_client_mistakes_are_invalid_params_without_a_traceback(
    agent: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    unknown_prompt = await protocol_error(agent.get_prompt("no_such_prompt", {}))
    missing = await protocol_error(agent.get_prompt("speed_to_lead_sms", {}))
    unknown_resource = await protocol_error(agent.read_resource("nothing://here"))
    assert unknown_prompt.error.code == missing.error.code == unknown_resource.error.code == INVALID_PARAMS
    assert "prompts/list" in unknown_prompt.error.message
    assert missing.error.message == "interaction_id: required — speed_to_lead_sms needs it"
    assert "resources/list" in unknown_resource.error.message
    assert not [record for record in caplog.records if record.exc_info], "a client's mistake is no crash"


@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
@pytest.mark.parametrize(("level", "heard"), [(None, True), ("error", False), ("debug", True)])
async def test_the_servers_notices_reach_the_client_at_its_log_level(
    harness: Harness, level: str | None, heard: bool
) -> None:
    received: list[LoggingMessageNotificationParams] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        received.append(params)

    async with Client(harness.server, mode="legacy", logging_callback=on_log) as client:
        assert client.server_capabilities.logging is not None
        assert client.server_capabilities.completions is not None
        if level is not None:
            await client.set_logging_level(level)  # type: ignore[arg-type]
        harness.sandbox.faults.add("POST", r"/capacity$", 503, times=1)  # one retry, then capacity
        await ok(client, "get_available_slots", {"job_type": "Heating Repair", "zip": "80210"})
    notices = [p for p in received if p.level == "warning" and "retrying" in str(p.data)]
    assert bool(notices) is heard, received


async def test_progress_is_reported_when_the_client_asks(agent: Client) -> None:
    steps: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        steps.append((progress, total, message))

    await agent.call_tool(
        "get_available_slots", {"job_type": "Heating Repair", "zip": "80210"}, progress_callback=on_progress
    )
    assert [step[0] for step in steps] == [0, 1, 3] and steps[-1][1] == 3
    assert "window" in (steps[-1][2] or "")
    slot = (await ok(agent, "get_available_slots", {"job_type": "Heating Repair", "zip": "80210"}))["slots"][
        0
    ]
    steps.clear()
    booked = await agent.call_tool(
        "book_job", booking_args(JORDAN, JORDAN_LOCATION, slot["slot_id"]), progress_callback=on_progress
    )
    assert not booked.is_error
    assert [(step[0], step[1]) for step in steps] == [(0, 2), (2, 2)] and steps[-1][2] == "booked"


# -- arguments -----------------------------------------------------------------------------------------
async def test_numbers_are_taken_where_their_meaning_is_plain(agent: Client) -> None:
    slots = await ok(agent, "get_available_slots", {"job_type": "Heating Repair", "zip": 80210})
    assert slots["slots"]
    found = await ok(agent, "lookup_customer", {"phone": 3035550142})
    assert found["customers"]
    # An id as a digit string is the same id; it reaches the business check ("no such job").
    missing = await refused(agent, "get_job_status", {"job_id": "40199999"})
    assert "invalid arguments" not in missing and "40199999" in missing


@pytest.mark.parametrize(
    ("tool", "arguments", "line"),
    [
        ("get_available_slots", {"job_type": "Heating Repair", "zip": 2134},
         "zip: expected a 5-digit US ZIP such as 80210 (send it as text to keep a leading zero)"),
        ("list_interactions", {"since": 12345}, "since: expected an ISO 8601 date or date-time"),
        ("list_interactions", {"since": "12345"}, "since: expected an ISO 8601 date or date-time"),
        ("list_interactions", {"until": "next tuesday"}, "until: expected an ISO 8601 date or date-time"),
        ("book_job", {"customer_id": "abc", "location_id": 1, "slot_id": "x", "summary": "x"},
         "customer_id: expected a whole number such as 10300001"),
    ],
)  # fmt: skip
async def test_a_bad_argument_is_one_line_a_model_can_act_on(
    agent: Client, tool: str, arguments: dict[str, Any], line: str
) -> None:
    text = await refused(agent, tool, arguments)
    assert text.startswith(f"Error executing tool {tool}: invalid arguments\n")
    assert line in text.splitlines()[1]
    for noise in ("pydantic", "[type=", "input_value", "http"):
        assert noise not in text


async def test_two_bad_arguments_are_two_lines(agent: Client) -> None:
    text = await refused(agent, "book_job", {"customer_id": 0, "slot_id": "x", "summary": ""})
    assert text.splitlines()[1:] == [
        "customer_id: expected greater than 0",
        "location_id: required",
        "summary: must not be empty",
    ]


# -- initialize ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
async def test_initialize_speaks_to_the_principal(harness: Harness, mode: str) -> None:
    async with connect_as(harness, "csr", mode) as csr:
        assert csr.server_info is not None
        assert csr.server_info.version == st_mcp.__version__
        assert csr.server_info.title and csr.server_info.website_url and csr.server_info.icons
        instructions = csr.instructions or ""
    assert "Interactions (CSRs)" in instructions and "lookup_customer" in instructions
    assert "get_audit_log" not in instructions
    async with connect_as(harness, "virtual_agent", mode) as bot:
        instructions = bot.instructions or ""
    assert "Speed to Lead" in instructions and "Interactions (CSRs)" not in instructions
    async with connect_as(harness, "auditor", mode) as auditor:
        instructions = auditor.instructions or ""
    assert "get_audit_log" in instructions and "Speed to Lead" not in instructions
