"""Two OS processes — the virtual agent and a CSR — on one SQLite file, over real stdio.

After the CSR takes a conversation over, the agent process's outbound messages and bookings for that
lead are refused with a reason naming the CSR, by every route (interaction id, phone, lead id, customer),
and nothing is written; the CSR's own message and booking go through (``Converted: Human``). Each process
has its own in-process sandbox tenant, so "no job was created" is checked through the agent's own
``lookup_customer`` and through the shared store.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from st_mcp.store.schema import bookings, calls, interactions, messages, status_history
from tests.e2e.conftest import READ_TIMEOUT, TransportFaults, explained, server_env, structured
from tests.server.conftest import JORDAN, JORDAN_LOCATION, JORDAN_OPEN_LEAD, PRIYA, PRIYA_LOCATION

from .conftest import CSR_NAME

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

TEST_TIMEOUT = 90.0  # two process start-ups and ~30 tool calls


@contextlib.asynccontextmanager
async def server_process(name: str, folder: Path, database_url: str, **env: str) -> AsyncIterator[Client]:
    """``python -m st_mcp`` over stdio with this identity, on the shared database; stderr to a file."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "st_mcp"],
        env=server_env(folder, ST_MCP_DATABASE_URL=database_url, **env),
        cwd=folder,
    )
    faults = TransportFaults()
    with (folder / f"{name}.stderr").open("w+", encoding="utf-8") as errlog:
        transport = stdio_client(params, errlog=errlog)
        async with Client(transport, message_handler=faults, read_timeout_seconds=READ_TIMEOUT) as client:
            yield client
    assert faults.errors == [], f"{name} wrote non-protocol output: {faults.errors!r}"


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments), tool)


async def refusal(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(block, "text", "") for block in result.content or [])
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    assert "Traceback" not in text
    return text


async def store_rows(engine: AsyncEngine) -> dict[str, Any]:
    """Row counts of the shared store, and every interaction's status."""
    async with engine.connect() as conn:
        counts = {
            table.name: int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
            for table in (interactions, messages, calls, status_history, bookings)
        }
        statuses = dict((await conn.execute(select(interactions.c.id, interactions.c.status))).all())
    return {**counts, "statuses": statuses}


async def upcoming(agent: Client, phone: str) -> int:
    found = await call(agent, "lookup_customer", {"phone": phone, "include": ["appointments"]})
    return sum(len(customer["upcoming_appointments"]) for customer in found["customers"])


async def test_agent_and_csr_processes_share_the_takeover(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    engine = create_async_engine(database_url)
    logs = [tmp_path / "agent" / "agent.stderr", tmp_path / "csr" / "csr.stderr"]
    try:
        with explained(*logs), anyio.fail_after(TEST_TIMEOUT):
            async with (
                server_process(
                    "agent", tmp_path / "agent", database_url, ST_MCP_ROLE="virtual_agent"
                ) as agent,
                server_process(
                    "csr", tmp_path / "csr", database_url, ST_MCP_ROLE="csr", ST_MCP_PRINCIPAL=CSR_NAME
                ) as csr,
            ):
                await scenario(agent, csr, engine)
    finally:
        await engine.dispose()


async def scenario(agent: Client, csr: Client, engine: AsyncEngine) -> None:
    # -- the agent: a Speed to Lead conversation, and a booking for another lead ------------------------
    lead = await call(
        agent,
        "ingest_lead",
        {
            "name": "Jordan Avery",
            "phone": "303-555-0142",
            "zip": "80210",
            "source": "Website",
            "summary": "Furnace blowing cold air",
            "servicetitan_lead_id": JORDAN_OPEN_LEAD,
        },
    )
    jordan = lead["interaction_id"]
    assert lead["status"] == "Started"
    message = {"interaction_id": jordan, "direction": "outbound", "text": "Hi Jordan, this is Peak Home."}
    await call(agent, "log_message", message)
    reply = {"interaction_id": jordan, "direction": "inbound", "text": "Can I talk to a person please?"}
    assert (await call(agent, "log_message", reply))["status"] == "Active: Hot"

    priya = (
        await call(agent, "ingest_lead", {"name": "Priya Raman", "phone": "720.555.0118", "zip": "80302"})
    )["interaction_id"]
    priya_slots = (await call(agent, "get_available_slots", {"job_type": "Heating Repair", "zip": "80302"}))[
        "slots"
    ]
    assert len(priya_slots) >= 2
    await call(
        agent,
        "book_job",
        {
            "customer_id": PRIYA,
            "location_id": PRIYA_LOCATION,
            "slot_id": priya_slots[0]["slot_id"],
            "summary": "Furnace tune-up.",
            "interaction_id": priya,
        },
    )

    # -- the CSR process sees both, and takes them over -------------------------------------------------
    listed = await call(csr, "list_interactions", {"status": "Active"})
    (row,) = listed["items"]
    assert (row["interaction_id"], row["name"], row["phone"]) == (jordan, "Jordan Avery", "(303) ***-0142")
    taken = await call(csr, "takeover_interaction", {"interaction_id": jordan, "note": "Asked for a person."})
    assert (taken["previous_status"], taken["status"]) == ("Active: Hot", "Takeover")
    taken = await call(csr, "takeover_interaction", {"interaction_id": priya})
    assert (taken["previous_status"], taken["status"]) == ("Converted: Agent", "Takeover")

    # -- the agent process is refused, by every route, and writes nothing --------------------------------
    before = await store_rows(engine)
    appointments = {
        "jordan": await upcoming(agent, "303-555-0142"),
        "priya": await upcoming(agent, "720-555-0118"),
    }
    slots = (await call(agent, "get_available_slots", {"job_type": "Heating Repair", "zip": "80210"}))[
        "slots"
    ]
    assert slots, "the sandbox offers windows"
    jordan_booking = {
        "customer_id": JORDAN,
        "location_id": JORDAN_LOCATION,
        "slot_id": slots[0]["slot_id"],
        "summary": "Furnace blowing cold air.",
    }
    attempts: list[tuple[str, dict[str, Any], str]] = [
        ("log_message", message, jordan),
        ("log_message", {**message, "interaction_id": None, "phone": "(303) 555-0142"}, jordan),
        ("book_job", {**jordan_booking, "interaction_id": jordan}, jordan),
        ("book_job", {**jordan_booking, "lead_id": JORDAN_OPEN_LEAD}, jordan),  # no interaction id
        (
            "book_job",  # no interaction id, no lead id: the customer is linked through the earlier booking
            {
                "customer_id": PRIYA,
                "location_id": PRIYA_LOCATION,
                "slot_id": priya_slots[1]["slot_id"],
                "summary": "Second visit.",
            },
            priya,
        ),
    ]
    for tool, arguments, interaction in attempts:
        text = await refusal(agent, tool, {k: v for k, v in arguments.items() if v is not None})
        assert f"{CSR_NAME} has taken over the conversation" in text, (tool, text)
        assert interaction in text and "the virtual agent may not" in text, (tool, text)
    assert await store_rows(engine) == before, "a refused call wrote to the shared store"
    assert await upcoming(agent, "303-555-0142") == appointments["jordan"], "a job was created for Jordan"
    assert await upcoming(agent, "720-555-0118") == appointments["priya"], "a job was created for Priya"

    # -- the CSR continues: a message and a booking of their own -----------------------------------------
    sent = await call(
        csr,
        "log_message",
        {"interaction_id": jordan, "direction": "outbound", "text": "Hi Jordan, Dana here."},
    )
    assert sent["status"] == "Takeover"
    csr_slots = (await call(csr, "get_available_slots", {"job_type": "Heating Repair", "zip": "80210"}))[
        "slots"
    ]
    booked = await call(
        csr, "book_job", {**jordan_booking, "slot_id": csr_slots[0]["slot_id"], "interaction_id": jordan}
    )
    detail = await call(csr, "get_interaction", {"interaction_id": jordan})
    assert detail["status"] == "Converted: Human"
    assert detail["links"]["job_id"] == booked["job_id"] and detail["links"]["customer_id"] == JORDAN
    assert [(t["direction"], t["sender"]) for t in detail["thread"]] == [
        ("outbound", "agent"),
        ("inbound", "lead"),
        ("outbound", CSR_NAME),
    ]
    history = [(h["from_status"], h["to_status"], h["actor"]) for h in detail["status_history"]]
    assert history[-2:] == [("Active: Hot", "Takeover", CSR_NAME), ("Takeover", "Converted: Human", CSR_NAME)]
    after = await store_rows(engine)
    assert (after["messages"], after["bookings"]) == (before["messages"] + 1, before["bookings"] + 1)
    assert after["statuses"][jordan] == "Converted: Human"

    # -- the person's booking does not hand the conversation back to the agent ---------------------------
    text = await refusal(agent, "log_message", message)
    assert f"{CSR_NAME} has taken over the conversation" in text
    assert (await store_rows(engine))["messages"] == after["messages"]
