"""MCP resources (DESIGN §4): a conversation as Markdown, and the tenant's bookable job types, read
through a real MCP client in both protocol eras."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from st_mcp.server import create_server

from .conftest import HEATING_REPAIR, MODES, Harness, new_interaction, ok

pytestmark = pytest.mark.anyio


@pytest.fixture(params=MODES)
async def agent(request: pytest.FixtureRequest, harness: Harness) -> AsyncIterator[Client]:
    async with harness.connect(request.param) as connected:
        yield connected


async def read_text(client: Client, uri: str) -> tuple[str, str | None]:
    result = await client.read_resource(uri)
    assert len(result.contents) == 1
    content = result.contents[0]
    return content.text, content.mime_type  # type: ignore[union-attr]


async def test_both_resources_are_listed(agent: Client) -> None:
    static = {str(r.uri): r for r in (await agent.list_resources()).resources}
    templates = {t.uri_template: t for t in (await agent.list_resource_templates()).resource_templates}

    assert static["servicetitan://job-types"].mime_type == "application/json"
    assert templates["interaction://{interaction_id}"].mime_type == "text/markdown"
    assert all(r.description for r in [*static.values(), *templates.values()])


async def test_an_interaction_reads_as_markdown_with_its_thread(agent: Client) -> None:
    interaction_id = await new_interaction(agent, "Jordan Avery", "(303) 555-0142")
    for direction, text in (
        ("outbound", "Hi Jordan, it's Sam at Peak Home Services. Reply STOP to opt out."),
        ("inbound", "Furnace is blowing cold air, can you come today?"),
    ):
        await ok(
            agent, "log_message", {"interaction_id": interaction_id, "direction": direction, "text": text}
        )
    await ok(
        agent,
        "log_call",
        {
            "interaction_id": interaction_id,
            "direction": "outbound",
            "transcript": "Agent: Tuesday 2-4 works?\nLead: Yes.",
            "duration_seconds": 95,
            "outcome": "window agreed",
        },
    )

    text, mime_type = await read_text(agent, f"interaction://{interaction_id}")

    assert mime_type == "text/markdown"
    assert text.startswith(f"# Jordan Avery — interaction {interaction_id}")
    assert "**Status:** Active: Hot" in text and "**Source:** Website" in text
    for section in ("## Overview summary", "## Thread", "## Status history"):
        assert section in text
    thread = text[text.index("## Thread") : text.index("## Status history")]
    assert "· agent** (outbound message): Hi Jordan, it's Sam at Peak Home Services." in thread
    assert "· lead** (inbound message): Furnace is blowing cold air, can you come today?" in thread
    assert "2026-05-05 10:30 MDT" in thread  # each line has its time, in business time
    assert "call outbound** (95 s, window agreed)" in thread and "  > Lead: Yes." in thread
    history = text[text.index("## Status history") :]
    assert "— → **Started** · virtual_agent · lead received" in history
    assert "→ **Active: Hot**" in history


async def test_an_unknown_interaction_is_not_found(agent: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await agent.read_resource("interaction://int_does_not_exist")

    assert raised.value.error.code == INVALID_PARAMS
    assert "No interaction with id 'int_does_not_exist'" in raised.value.error.message


async def test_job_types_list_what_can_be_booked(agent: Client) -> None:
    text, mime_type = await read_text(agent, "servicetitan://job-types")

    assert mime_type == "application/json"
    job_types = {item["name"]: item for item in json.loads(text)["job_types"]}
    heating = job_types["Heating Repair"]
    assert heating["job_type_id"] == HEATING_REPAIR
    assert heating["duration_minutes"] > 0
    assert {"no heat", "furnace"} <= set(heating["aliases"])  # from the configured aliases
    assert heating["business_units"] and all(unit["name"] for unit in heating["business_units"])
    assert "Drain Cleaning" in job_types


async def test_job_types_follow_the_configured_allowlist(harness: Harness) -> None:
    booking = harness.settings.booking.model_copy(update={"job_types": ["Heating Repair", "Drain Cleaning"]})
    server = create_server(
        harness.settings.model_copy(update={"booking": booking}), upstream=harness.upstream
    )

    async with Client(server) as client:
        text, _ = await read_text(client, "servicetitan://job-types")

    assert [item["name"] for item in json.loads(text)["job_types"]] == ["Drain Cleaning", "Heating Repair"]


@pytest.mark.parametrize("job_type", ["Heating%20Repair", "no%20heat", str(HEATING_REPAIR)])
async def test_one_job_type_by_name_alias_or_id(agent: Client, job_type: str) -> None:
    text, mime_type = await read_text(agent, f"servicetitan://job-types/{job_type}")

    assert mime_type == "application/json"
    item = json.loads(text)
    assert (item["job_type_id"], item["name"]) == (HEATING_REPAIR, "Heating Repair")
    assert "no heat" in item["aliases"]


async def test_an_unknown_job_type_is_not_found_and_names_the_choices(agent: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await agent.read_resource("servicetitan://job-types/Pool%20Cleaning")

    assert raised.value.error.code == INVALID_PARAMS
    assert "Unknown job type 'Pool Cleaning'" in raised.value.error.message
    assert "Heating Repair" in raised.value.error.message
