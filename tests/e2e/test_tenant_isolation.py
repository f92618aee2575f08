"""Two contractors on one deployment: a principal of one tenant never reaches the other's data.

One ``st-mcp serve --transport http`` process serves two ``[tenants.<name>]`` — each its own embedded
sandbox ServiceTitan tenant (its own id and seed), its own SMS number, its own roles — on one store
(SQLite, and PostgreSQL where the tests have one). In each direction, tenant X's people leave a trail
(a lead, texts, a call, a customer, a booked job under an idempotency key, an escalation), each piece
carrying a marker only X uses; then tenant Y's owner, holding every permission there is, goes through
every door the server has — every tool it lists, every resource and template, every prompt, every
completion — aimed at X's identifiers. Nothing Y gets back may carry X's markers or X's interaction id;
X's conversation is left exactly as it was (no takeover, no dismissal, no text, no summary change);
each tenant's audit chain verifies and holds only its own principals.

Every tool must have a row in ``ARGUMENTS``: a new tool without one fails here until its isolation is
thought about.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import PromptReference, ResourceTemplateReference

from st_mcp.policy.permissions import PERMISSIONS
from st_mcp.server.auth import hash_key
from tests.postgres import needs_postgres

from .conftest import (
    JORDAN_PHONE,
    Spawned,
    explained,
    free_port,
    server_env,
    spawn,
    structured,
    wait_for_port,
)

pytestmark = [pytest.mark.slow]

TENANTS = {"acme": (3101, 7, "+13035550170"), "bolt": (3102, 11, "+13035550171")}
ROLES = ("owner", "virtual_agent")  # owner: every permission there is (tenant-defined role)


def key(tenant: str, role: str) -> str:
    return f"{tenant}-{role}-key-0123456789abcdef"


def marker(tenant: str) -> str:
    return f"zq{tenant}marker"


def write_config(folder: Path) -> Path:
    everything = json.dumps(sorted(PERMISSIONS))
    lines = []
    for name, (tenant_id, seed, number) in TENANTS.items():
        lines += [
            f"[tenants.{name}]",
            f'servicetitan = {{ environment = "sandbox", tenant_id = {tenant_id} }}',
            f"sandbox = {{ seed = {seed} }}",
            f'messaging = {{ gateway = "sandbox", twilio_from_number = "{number}" }}',
            f'persona = {{ company_name = "{name.title()} Home Services" }}',
            f"[tenants.{name}.access.roles]",
            f"owner = {everything}",
        ]
        for role in ROLES:
            lines += [
                f"[[tenants.{name}.api_keys]]",
                f'principal = "{name}-{role}"\nrole = "{role}"\nsha256 = "{hash_key(key(name, role))}"',
            ]
    config = folder / "st-mcp.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@contextlib.contextmanager
def one_server(folder: Path, database_url: str | None) -> Iterator[tuple[Spawned, str]]:
    store = {"ST_MCP_DATABASE_URL": database_url} if database_url else {}
    env = server_env(folder, ST_MCP_CONFIG=str(write_config(folder)), **store)
    port = free_port()
    with spawn("server", ["serve", "--transport", "http", "--port", str(port)], env, folder) as server:
        wait_for_port(server, port, timeout=60)
        yield server, f"http://127.0.0.1:{port}/mcp"


@contextlib.asynccontextmanager
async def session(url: str, tenant: str, role: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key(tenant, role)}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), read_timeout_seconds=60) as client,
    ):
        yield client


# -- tenant X's trail ---------------------------------------------------------------------------------
async def leave_a_trail(url: str, tenant: str) -> dict[str, Any]:
    """What X's people do in a morning; returns X's identifiers (each marked with X's marker)."""
    mark = marker(tenant)
    async with session(url, tenant, "owner") as owner:
        lead = structured(
            await owner.call_tool(
                "ingest_lead",
                {"name": f"Lee {mark}", "phone": JORDAN_PHONE, "zip": "80210", "summary": f"no heat {mark}"},
            ),
            "ingest_lead",
        )
        interaction = lead["interaction_id"]
        structured(
            await owner.call_tool("send_message", {"interaction_id": interaction, "text": f"Hi {mark}"}),
            "send_message",
        )
        structured(
            await owner.call_tool(
                "log_call",
                {"direction": "inbound", "transcript": f"caller said {mark}", "duration_seconds": 60,
                 "interaction_id": interaction},
            ),
            "log_call",
        )  # fmt: skip
        customer = structured(
            await owner.call_tool(
                "create_customer",
                {"name": f"Casey {mark}", "phone": "(303) 555-0177", "street": "1 Main St",
                 "city": "Denver", "state": "CO", "zip": "80210"},
            ),
            "create_customer",
        )  # fmt: skip
        location_id = customer["location_id"]
        offer = structured(
            await owner.call_tool(
                "get_available_slots", {"job_type": "Heating Repair", "location_id": location_id}
            ),
            "get_available_slots",
        )
        booked = structured(
            await owner.call_tool(
                "book_job",
                {"customer_id": customer["customer_id"], "location_id": location_id,
                 "slot_id": offer["slots"][0]["slot_id"], "summary": f"furnace {mark}",
                 "interaction_id": interaction, "idempotency_key": f"idem-{tenant}-0001"},
            ),
            "book_job",
        )  # fmt: skip
        structured(
            await owner.call_tool(
                "escalate_to_dispatcher",
                {"reason": "human_request", "note": f"call back {mark}", "interaction_id": interaction},
            ),
            "escalate_to_dispatcher",
        )
        before = structured(await owner.call_tool("get_interaction", {"interaction_id": interaction}), "get")
    return {
        "interaction_id": interaction,
        "customer_id": customer["customer_id"],
        "location_id": location_id,
        "slot_id": offer["slots"][0]["slot_id"],
        "job_id": booked["job_id"],
        "job_number": str(booked.get("job_number") or booked["job_id"]),
        "idempotency_key": f"idem-{tenant}-0001",
        "interaction": before,
    }


# Every tool, aimed at X's identifiers (``x``) by Y's owner.
ARGUMENTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "get_audit_log": lambda x: {"verify_chain": True, "limit": 100},
    "lookup_customer": lambda x: {"phone": "(303) 555-0177", "include": ["appointments", "recent_jobs"]},
    "create_customer": lambda x: {"name": "Probe Person", "phone": "(303) 555-0188", "street": "2 Elm St",
                                  "city": "Denver", "state": "CO", "zip": "80210"},
    "get_available_slots": lambda x: {"job_type": "Heating Repair", "location_id": x["location_id"]},
    "book_job": lambda x: {"customer_id": x["customer_id"], "location_id": x["location_id"],
                           "slot_id": x["slot_id"], "summary": "probe", "interaction_id": x["interaction_id"],
                           "idempotency_key": x["idempotency_key"]},
    "reschedule_job": lambda x: {"job_id": x["job_id"], "slot_id": x["slot_id"]},
    "cancel_job": lambda x: {"job_id": x["job_id"], "reason": "probe"},
    "get_job_status": lambda x: {"job_id": x["job_id"]},
    "escalate_to_dispatcher": lambda x: {"reason": "human_request", "note": "probe",
                                         "interaction_id": x["interaction_id"]},
    "ingest_lead": lambda x: {"name": "Probe Lead", "phone": JORDAN_PHONE, "zip": "80210"},
    "get_lead_queue": lambda x: {"limit": 50},
    "send_message": lambda x: {"interaction_id": x["interaction_id"], "text": "probe"},
    "log_message": lambda x: {"direction": "inbound", "text": "probe", "interaction_id": x["interaction_id"]},
    "log_call": lambda x: {"direction": "inbound", "transcript": "probe", "duration_seconds": 5,
                           "interaction_id": x["interaction_id"]},
    "update_interaction": lambda x: {"interaction_id": x["interaction_id"], "summary": "probe"},
    "list_interactions": lambda x: {"limit": 100},
    "get_interaction": lambda x: {"interaction_id": x["interaction_id"]},
    "interaction_stats": lambda x: {},
    "takeover_interaction": lambda x: {"interaction_id": x["interaction_id"]},
    "dismiss_interaction": lambda x: {"interaction_id": x["interaction_id"], "reason": "probe"},
    "get_technician_eta": lambda x: {"job_id": x["job_id"]},
    "add_job_note": lambda x: {"job_id": x["job_id"], "text": "probe"},
    "request_callback": lambda x: {"reason": "probe", "interaction_id": x["interaction_id"]},
    "emergency_triage": lambda x: {"description": "no heat", "interaction_id": x["interaction_id"]},
    "get_customer_history": lambda x: {"customer_id": x["customer_id"]},
    "survey_post_job": lambda x: {"job_id": x["job_id"]},
    "upsell_membership": lambda x: {"customer_id": x["customer_id"]},
    "record_membership_interest": lambda x: {"customer_id": x["customer_id"], "note": "probe",
                                             "interaction_id": x["interaction_id"]},
    "book_maintenance_visit": lambda x: {"customer_id": x["customer_id"],
                                         "interaction_id": x["interaction_id"]},
    "get_open_estimates": lambda x: {"customer_id": x["customer_id"]},
    "request_invoice": lambda x: {"job_id": x["job_id"]},
}  # fmt: skip


def leaks(answer: dict[str, Any], tenant: str, trail: dict[str, Any]) -> list[str]:
    """X's markers anywhere in what Y was answered; X's interaction id in an answer that is not a refusal
    (a refusal may quote the id Y sent: "No interaction with id …")."""
    text = json.dumps(answer, default=str)
    found = [marker(tenant)] if marker(tenant) in text else []
    refused = answer.get("is_error") or "error" in answer
    if not refused and trail["interaction_id"] in text:
        found.append(trail["interaction_id"])
    return found


def answer_of(result: Any) -> dict[str, Any]:
    return {
        "is_error": result.is_error,
        "text": " ".join(getattr(block, "text", "") for block in result.content or []),
        "structured": result.structured_content,
    }


async def protocol(call: Any) -> dict[str, Any]:
    """A resource read, prompt or completion: its answer, or the protocol error it met."""
    try:
        return dict((await call).model_dump(mode="json"))
    except MCPError as exc:
        return {"error": exc.error.message}


# -- tenant Y, through every door ----------------------------------------------------------------------
async def probe_every_door(url: str, prober: str, owner: str, trail: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    async with session(url, prober, "owner") as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools == set(ARGUMENTS), (
            f"a tool without an isolation row, or one missing: {tools ^ set(ARGUMENTS)}"
        )
        for name in sorted(tools):
            answer = answer_of(await client.call_tool(name, ARGUMENTS[name](trail)))
            if name == "get_audit_log":  # the prober's own requests, quoting the ids it sent
                events = answer["structured"]["events"]
                strangers = sorted(
                    {event["principal"] for event in events if event["principal"].startswith(owner)}
                )
                problems += [f"tool {name}: {owner}'s principal {who}" for who in strangers]
                answer["is_error"] = (
                    True  # an id quoted back is the prober's own; markers are still looked for
                )
            problems += [
                f"tool {name}: {leak} in {answer['text'][:200]}" for leak in leaks(answer, owner, trail)
            ]

        for resource in (await client.list_resources()).resources:
            answer = await protocol(client.read_resource(str(resource.uri)))
            problems += [f"resource {resource.uri}: {leak}" for leak in leaks(answer, owner, trail)]
        for template in (await client.list_resource_templates()).resource_templates:
            uri = template.uri_template.replace("{interaction_id}", trail["interaction_id"])
            uri = uri.replace("{job_type}", "Heating%20Repair")
            answer = await protocol(client.read_resource(uri))
            problems += [f"template {uri}: {leak}" for leak in leaks(answer, owner, trail)]
            for argument in ("interaction_id",):
                if "{" + argument + "}" in template.uri_template:
                    ref = ResourceTemplateReference(type="ref/resource", uri=template.uri_template)
                    done = await protocol(client.complete(ref, {"name": argument, "value": "int_"}))
                    problems += [f"completion of {uri}: {leak}" for leak in leaks(done, owner, trail)]

        for prompt in (await client.list_prompts()).prompts:
            arguments = {
                argument.name: trail["interaction_id"] if argument.name == "interaction_id" else "2026-01-01"
                for argument in prompt.arguments or []
                if argument.required or argument.name == "interaction_id"
            }
            answer = await protocol(client.get_prompt(prompt.name, arguments))
            problems += [f"prompt {prompt.name}: {leak}" for leak in leaks(answer, owner, trail)]
            if "interaction_id" in arguments:
                ref = PromptReference(type="ref/prompt", name=prompt.name)
                done = await protocol(client.complete(ref, {"name": "interaction_id", "value": "int_"}))
                problems += [f"completion of {prompt.name}: {leak}" for leak in leaks(done, owner, trail)]
    return problems


async def owner_sees(url: str, tenant: str, trail: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    async with session(url, tenant, "owner") as owner:
        now = structured(
            await owner.call_tool("get_interaction", {"interaction_id": trail["interaction_id"]}), "get"
        )
        audit = structured(
            await owner.call_tool("get_audit_log", {"verify_chain": True, "limit": 100}), "audit"
        )
        cursor = audit["next_cursor"]
        while cursor:  # every record the tenant's chain holds
            page = structured(
                await owner.call_tool("get_audit_log", {"limit": 100, "cursor": cursor}), "audit"
            )
            audit["events"] += page["events"]
            cursor = page["next_cursor"]
    return now, audit


async def run_matrix(url: str) -> None:
    trails = {tenant: await leave_a_trail(url, tenant) for tenant in TENANTS}
    assert trails["acme"]["interaction_id"] != trails["bolt"]["interaction_id"]
    for owner, prober in (("acme", "bolt"), ("bolt", "acme")):
        problems = await probe_every_door(url, prober, owner, trails[owner])
        assert problems == [], f"{prober} reached {owner}'s data:\n" + "\n".join(problems)
    for tenant, trail in trails.items():
        now, audit = await owner_sees(url, tenant, trail)
        before = trail["interaction"]
        for field in ("status", "overview_summary", "taken_over_by", "thread", "status_history"):
            assert now[field] == before[field], (tenant, field, before[field], now[field])
        other = next(name for name in TENANTS if name != tenant)
        text = json.dumps(audit)
        assert audit["chain_ok"] is True, audit["chain_problem"]
        assert f"{tenant}-owner" in text and f"{other}-owner" not in text, f"{tenant}'s audit log"


def run(tmp_path: Path, database_url: str | None) -> None:
    with one_server(tmp_path, database_url) as (server, url), explained(server):
        anyio.run(run_matrix, url)


def test_two_tenants_are_isolated_on_sqlite(tmp_path: Path) -> None:
    run(tmp_path, None)


@needs_postgres
def test_two_tenants_are_isolated_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    run(tmp_path, pg_url)
