"""MCP prompts (DESIGN §4): the five prompt files, rendered with a real interaction's live context,
through a real MCP client in both protocol eras; operator overrides; packaging of the files."""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from st_mcp.config import ConfigError, load_settings
from st_mcp.server import create_server
from st_mcp.server.prompts import PromptFileError, load_prompts, parse_prompt
from st_mcp.server.tools.registry import TOOLS
from st_mcp.services.prompt_context import CONVERSATION_KEYS, TRIAGE_KEYS
from st_mcp.store.schema import interactions, messages, status_history

from .conftest import GLORIA, JORDAN, MODES, Harness, ok

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]
CONVERSATION_PROMPTS = (
    "speed_to_lead_sms",
    "speed_to_lead_voice",
    "inbound_receptionist",
    "interaction_overview_summary",
    "post_job_follow_up",
    "maintenance_reminder",
    "estimate_follow_up",
)
AGENT_PROMPTS = (
    "speed_to_lead_sms",
    "speed_to_lead_voice",
    "inbound_receptionist",
    "post_job_follow_up",
    "maintenance_reminder",
    "estimate_follow_up",
)
ALL_PROMPTS = {*CONVERSATION_PROMPTS, "csr_daily_triage"}
# Every tool name of DESIGN §4, implemented or not: a prompt may name only the registered ones.
DESIGN_TOOLS = {
    "lookup_customer", "create_customer", "get_available_slots", "book_job", "reschedule_job",
    "cancel_job", "get_job_status", "escalate_to_dispatcher", "ingest_lead", "get_lead_queue",
    "send_message", "log_message", "log_call", "update_interaction", "list_interactions",
    "get_interaction", "interaction_stats", "takeover_interaction", "dismiss_interaction", "get_audit_log",
    "upsell_membership", "record_membership_interest", "book_maintenance_visit", "get_open_estimates",
    "request_invoice",
    "get_technician_eta", "add_job_note", "request_callback", "emergency_triage", "get_customer_history",
    "survey_post_job",
}  # fmt: skip
UNRENDERED = re.compile(r"\$\{?[A-Za-z_]\w*|\{[a-z_]+\}")


@pytest.fixture(params=MODES)
async def agent(request: pytest.FixtureRequest, harness: Harness) -> AsyncIterator[Client]:
    async with harness.connect(request.param) as connected:
        yield connected


async def jordan_lead(client: Client) -> str:
    """A Speed to Lead conversation with Jordan Avery, a known ServiceTitan customer (member, Denver)."""
    lead = await ok(
        client,
        "ingest_lead",
        {
            "name": "Jordan Avery",
            "phone": "(303) 555-0142",
            "zip": "80210",
            "source": "Angi",
            "summary": "Furnace is blowing cold air",
        },
    )
    interaction_id = str(lead["interaction_id"])
    for direction, text in (
        ("outbound", "Hi Jordan, it's Sam, the automated assistant at Peak Home Services."),
        ("inbound", "Yes please, can someone come tomorrow morning?"),
    ):
        await ok(
            client, "log_message", {"interaction_id": interaction_id, "direction": direction, "text": text}
        )
    return interaction_id


async def rendered(client: Client, name: str, arguments: dict[str, str]) -> str:
    result = await client.get_prompt(name, arguments)
    assert len(result.messages) == 1
    message = result.messages[0]
    assert message.role == "user"
    text: str = message.content.text  # type: ignore[union-attr]
    assert not UNRENDERED.findall(text), f"unrendered placeholders in {name}: {UNRENDERED.findall(text)}"
    return text


# -- prompts/list ---------------------------------------------------------------------------------------
async def test_prompts_list_shows_the_five_with_their_arguments(agent: Client) -> None:
    listed = {p.name: p for p in (await agent.list_prompts()).prompts}

    assert set(listed) == ALL_PROMPTS
    for name in CONVERSATION_PROMPTS:
        arguments = [(a.name, a.required) for a in listed[name].arguments or []]
        assert arguments == [("interaction_id", True)], name
    assert [(a.name, a.required) for a in listed["csr_daily_triage"].arguments or []] == [("since", False)]
    for prompt in listed.values():
        assert prompt.title and prompt.description
        assert all(a.description for a in prompt.arguments or [])


# -- prompts/get ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CONVERSATION_PROMPTS)
async def test_each_conversation_prompt_renders_the_live_context(agent: Client, name: str) -> None:
    interaction_id = await jordan_lead(agent)

    text = await rendered(agent, name, {"interaction_id": interaction_id})

    for fact in (
        interaction_id,
        "Jordan Avery",  # the lead
        "+13035550142",
        "Angi",  # the source
        "Furnace is blowing cold air",  # the request
        "can someone come tomorrow morning?",  # the latest thread line
        f"customer_id {JORDAN}",  # the ServiceTitan customer behind the phone
        "1420 S Pearl St",  # their location
        "Memberships: Active",
        "Peak Home Services",
        "escalate_to_dispatcher",
    ):
        assert fact in text, f"{name} lacks {fact!r}"


@pytest.mark.parametrize("name", AGENT_PROMPTS)
async def test_agent_prompts_state_the_rules(client: Client, name: str) -> None:
    text = await rendered(client, name, {"interaction_id": await jordan_lead(client)})

    for rule in (
        "Never invent prices",  # and availability
        "get_available_slots",
        "2–3",  # real windows, by their labels
        "labels",
        "gas smell",
        "CO alarm",
        "flooding",
        "no heat in freezing weather",
        "escalate_to_dispatcher",
        "human_request",  # when the lead asks for a person
        "any opt-out",  # respect STOP and plain-language revocations
        "Sam",  # the agent's name
        "HVAC, Plumbing, Electrical, Garage Door",  # the trades
        "Denver Metro (80202",  # the service area: zones and a few ZIPs
        "Boulder (",
        "Heating Repair",  # a bookable job type
    ):
        assert rule in text, f"{name} lacks {rule!r}"


async def test_voice_prompt_opens_with_the_ai_disclosure_and_an_opt_out(client: Client) -> None:
    text = await rendered(client, "speed_to_lead_voice", {"interaction_id": await jordan_lead(client)})

    opening = text.index("## Open every call")
    assert opening < text.index("## The lead")
    first_words = text[opening:].split("\n")[1]
    assert "an AI assistant calling from Peak Home Services" in first_words
    assert "If you'd rather not get calls from us, just say so" in first_words


async def test_sms_prompt_identifies_the_business_and_offers_stop(client: Client) -> None:
    text = await rendered(client, "speed_to_lead_sms", {"interaction_id": await jordan_lead(client)})

    assert "Hi Jordan, it's Sam, the automated assistant at Peak Home Services" in text
    assert "Reply STOP to opt out" in text
    assert "(303) 555-0100" in text  # the support phone for HELP and the opt-out confirmation


async def test_a_new_caller_gets_no_invented_history(client: Client) -> None:
    lead = await ok(
        client, "ingest_lead", {"name": "Karen Holt", "phone": "(303) 555-0199", "source": "Website"}
    )

    text = await rendered(client, "speed_to_lead_sms", {"interaction_id": lead["interaction_id"]})

    assert "Karen Holt" in text and "Website" in text
    assert "No ServiceTitan customer has this phone" in text
    assert "create_customer" in text
    assert "not given yet" in text  # no request and no address: the prompt says so instead of guessing
    assert "(nothing yet: this is the first contact)" in text


async def test_a_do_not_service_customer_is_flagged(client: Client) -> None:
    lead = await ok(client, "ingest_lead", {"name": "Gloria Pruitt", "phone": "(303) 555-0177"})

    text = await rendered(client, "inbound_receptionist", {"interaction_id": lead["interaction_id"]})

    assert f"customer_id {GLORIA}" in text
    assert "DO NOT SERVICE: do not book; escalate_to_dispatcher" in text


async def test_unknown_interaction_is_a_prompt_error_and_writes_nothing(
    harness: Harness, client: Client
) -> None:
    before = await harness.written_state()
    stored = [await harness.count(t) for t in (interactions, messages, status_history)]

    with pytest.raises(MCPError) as raised:
        await client.get_prompt("speed_to_lead_sms", {"interaction_id": "int_does_not_exist"})

    assert raised.value.error.code == INVALID_PARAMS
    assert "No interaction with id 'int_does_not_exist'" in raised.value.error.message
    assert await harness.written_state() == before
    assert [await harness.count(t) for t in (interactions, messages, status_history)] == stored


# -- csr_daily_triage -----------------------------------------------------------------------------------
async def test_triage_lists_what_needs_a_person_and_the_counters(harness: Harness, agent: Client) -> None:
    jordan = await jordan_lead(agent)
    priya = await ok(
        agent, "ingest_lead", {"name": "Priya Raman", "phone": "(720) 555-0118", "source": "Google LSA"}
    )
    await ok(
        agent,
        "escalate_to_dispatcher",
        {"interaction_id": priya["interaction_id"], "reason": "human_request", "note": "Wants a person."},
    )
    harness.clock.advance(60)  # the counters' period ends "now", after the leads arrived

    text = await rendered(agent, "csr_daily_triage", {})

    escalated = text[text.index("## Escalated") : text.index("## Hot")]
    hot = text[text.index("## Hot") : text.index("## Not contacted")]
    assert "Priya Raman" in escalated and "Escalated (Human Request)" in escalated
    assert jordan in hot and "Active: Hot" in hot
    assert "Conversations 2 · Escalated 1" in text
    assert "Peak Home Services" in text
    assert "escalate_to_dispatcher" in text and "takeover_interaction" in text


async def test_triage_since_sets_the_period_and_rejects_nonsense(harness: Harness, client: Client) -> None:
    await jordan_lead(client)
    harness.clock.advance(60)

    today = await rendered(client, "csr_daily_triage", {"since": "2026-05-05"})
    assert "the period starts Tue May 5, 12:00 AM MDT" in today  # a bare date: midnight, business time
    assert "Conversations 1" in today
    after = await rendered(client, "csr_daily_triage", {"since": "2026-05-05T10:30:30-06:00"})
    assert "Conversations 0" in after

    for since, problem in (("last tuesday", "ISO 8601"), ("2026-05-06", "'since' must be before")):
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("csr_daily_triage", {"since": since})
        assert raised.value.error.code == INVALID_PARAMS
        assert problem in raised.value.error.message


# -- operator overrides ---------------------------------------------------------------------------------
OVERRIDE = """\
---
name: speed_to_lead_sms
title: Our own SMS script
description: The operator's version.
arguments:
  - name: interaction_id
    description: The lead's interaction
    required: true
---
OVERRIDE for $lead_name ($lead_source) at $company_name. Rules: escalate_to_dispatcher.
"""
NEW_PROMPT = """\
---
name: callback_script
title: "Callback script"
description: A short script for a CSR calling the lead back.
arguments:
  - name: interaction_id
    description: The conversation
    required: true
---
Call $lead_name about: $lead_request
"""


async def test_an_override_folder_replaces_one_prompt_and_keeps_the_others(
    harness: Harness, tmp_path: Path
) -> None:
    folder = tmp_path / "our-prompts"
    folder.mkdir()
    (folder / "speed_to_lead_sms.md").write_text(OVERRIDE)
    (folder / "callback_script.md").write_text(NEW_PROMPT)
    (folder / "broken.md").write_text("no front matter here")  # ignored with a warning, never fatal
    persona = harness.settings.persona.model_copy(update={"company_name": "Summit Comfort"})
    settings = harness.settings.model_copy(update={"prompts_dir": str(folder), "persona": persona})
    server = create_server(settings, upstream=harness.upstream)

    async with Client(server) as client:
        listed = {p.name: p for p in (await client.list_prompts()).prompts}
        interaction_id = await jordan_lead(client)
        sms = await rendered(client, "speed_to_lead_sms", {"interaction_id": interaction_id})
        voice = await rendered(client, "speed_to_lead_voice", {"interaction_id": interaction_id})
        callback = await rendered(client, "callback_script", {"interaction_id": interaction_id})

    assert set(listed) == {*ALL_PROMPTS, "callback_script"}
    assert listed["speed_to_lead_sms"].title == "Our own SMS script"
    assert sms == "OVERRIDE for Jordan Avery (Angi) at Summit Comfort. Rules: escalate_to_dispatcher.\n"
    assert "## Open every call" in voice and "calling from Summit Comfort" in voice  # shipped, new persona
    assert callback == "Call Jordan Avery about: Furnace is blowing cold air\n"


def test_unknown_placeholders_stay_visible(tmp_path: Path) -> None:
    (tmp_path / "speed_to_lead_sms.md").write_text(OVERRIDE.replace("Rules:", "$no_such_fact"))
    prompt = next(p for p in load_prompts(str(tmp_path)) if p.name == "speed_to_lead_sms")

    assert "$no_such_fact" in prompt.template.safe_substitute({"lead_name": "X"})


def test_prompts_dir_comes_from_the_environment_and_must_exist(tmp_path: Path) -> None:
    assert load_settings(environ={"ST_MCP_PROMPTS_DIR": str(tmp_path)}).prompts_dir == str(tmp_path)
    with pytest.raises(ConfigError, match="ST_MCP_PROMPTS_DIR: no such folder"):
        load_settings(environ={"ST_MCP_PROMPTS_DIR": str(tmp_path / "missing")})


def test_persona_comes_from_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "st-mcp.toml"
    config.write_text('[persona]\ncompany_name = "Summit Comfort"\ntrades = ["HVAC"]\n')

    persona = load_settings(config, environ={}).persona

    assert (persona.company_name, persona.agent_name, persona.trades) == ("Summit Comfort", "Sam", ["HVAC"])


# -- the files themselves -------------------------------------------------------------------------------
def test_shipped_prompts_use_only_known_placeholders_and_registered_tools() -> None:
    registered = {spec.name for spec in TOOLS}
    for prompt in load_prompts():
        known = set(CONVERSATION_KEYS if prompt.about_one_conversation else TRIAGE_KEYS)
        assert set(prompt.template.get_identifiers()) <= known, prompt.name
        named = set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", prompt.template.template)) & DESIGN_TOOLS
        assert named <= registered, f"{prompt.name} names tools that do not exist: {named - registered}"
        assert "escalate_to_dispatcher" in named


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter", "must start with '---'"),
        ("---\nname: x\n", "no closing '---'"),
        ("---\nname: Not Snake\n---\nbody", "lower_snake_case"),
        ("---\nname: x\ncolour: red\n---\nbody", "unknown key 'colour'"),
        ("---\nname: x\narguments:\n  - name: a\n    required: maybe\n---\nbody", "true or false"),
    ],
)
def test_malformed_prompt_files_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(PromptFileError, match=re.escape(problem)):
        parse_prompt(text, "x.md")


def test_the_prompt_files_are_packaged() -> None:
    """pyproject lists packages (prompts/ ships as st_mcp.prompt_files): the list must cover src/. The
    migrations are Alembic scripts, not a package: they ship as package data of st_mcp.store."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    migrations = REPO / "src" / "st_mcp" / "store" / "migrations"
    on_disk = {
        ".".join(path.parent.relative_to(REPO / "src").parts)
        for path in (REPO / "src").rglob("*.py")
        if "__pycache__" not in path.parts and migrations not in path.parents
    }
    assert set(project["packages"]) == on_disk | {"st_mcp.prompt_files"}
    assert "migrations/versions/*.py" in project["package-data"]["st_mcp.store"]
    assert project["package-dir"]["st_mcp.prompt_files"] == "prompts"
    shipped = {p.name for p in importlib.resources.files("st_mcp.prompt_files").iterdir()}
    assert {f"{name}.md" for name in ALL_PROMPTS} <= shipped


async def test_the_receptionist_offers_a_membership_only_on_routine_calls(client: Client) -> None:
    text = await rendered(client, "inbound_receptionist", {"interaction_id": await jordan_lead(client)})
    offer = next(line for line in text.splitlines() if "upsell_membership lists" in line)
    assert "never an emergency" in offer and "upsell_membership" in offer
    assert "record_membership_interest" in offer and "say only those" in offer
    assert "book_maintenance_visit" in text and "request_invoice" in text


async def test_the_revenue_prompts_name_their_tools(client: Client) -> None:
    interaction = await jordan_lead(client)
    reminder = await rendered(client, "maintenance_reminder", {"interaction_id": interaction})
    assert "book_maintenance_visit" in reminder and "never use book_job for a membership visit" in reminder
    follow_up = await rendered(client, "estimate_follow_up", {"interaction_id": interaction})
    assert "get_open_estimates" in follow_up and "Never change, discount or re-price" in follow_up
