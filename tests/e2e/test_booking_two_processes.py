"""No double booking and no orphan, across two server processes, under injected upstream faults (issue 11).

One ServiceTitan (``st-mcp sandbox`` on loopback) and two ``st-mcp serve --transport http`` processes on one
store. A window with exactly one technician left is raced by six agents (three per process), each for
its own customer. The sandbox's fault knob, armed at run time, makes job creates slow (longer than the
window lease's time to live, as a 429 retried after a long Retry-After does) and answer 502 after the job
was made. Every agent retries "did not confirm" with the same key, as told.

Afterwards, in the tenant itself: one job in the window (the last technician is booked once), no
customer with two jobs, and the agent whose job it is was told so.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from st_mcp.sandbox import SandboxConfig, create_sandbox_app

from .conftest import E2E_CLOCK, Spawned, explained, free_port, server_env, spawn, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
AGENTS = 6
LEASE_SECONDS = 2


@contextlib.contextmanager
def stack(
    folder: Path,
    *,
    servers: int = 2,
    database_url: str | None = None,
    stateless: bool = False,
    settings: str = "",
    environ: dict[str, str] | None = None,
    sandbox_port: int | None = None,
    server_environ: dict[int, dict[str, str]] | None = None,
) -> Iterator[tuple[str, list[str], list[Spawned]]]:
    """The loopback sandbox and ``servers`` MCP servers on one store (SQLite in ``folder``, or
    ``database_url``); yields the sandbox's URL, the servers' MCP URLs, and every process. ``settings``:
    more of the servers' TOML; ``environ``: more of their environment; ``server_environ``: more of one
    server's (by index); ``sandbox_port``: where the sandbox listens (a free port when not given)."""
    sandbox_port, ports = sandbox_port or free_port(), [free_port() for _ in range(servers)]
    base = f"http://127.0.0.1:{sandbox_port}"
    config = folder / "st-mcp.toml"
    config.write_text(f"[booking]\nwindow_lease_seconds = {LEASE_SECONDS}\n{settings}", encoding="utf-8")
    store = {"ST_MCP_DATABASE_URL": database_url} if database_url else {}
    env = server_env(
        folder,
        ST_MCP_CONFIG=str(config),
        ST_ENVIRONMENT="sandbox",
        ST_API_BASE_URL=base,
        ST_AUTH_URL=f"{base}/connect/token",
        **store,
        **(environ or {}),
    )
    sandbox_args = ["sandbox", "--port", str(sandbox_port), "--state", str(folder / "tenant.db")]
    with contextlib.ExitStack() as stack:
        tenant = stack.enter_context(spawn("sandbox", [*sandbox_args, "--clock", E2E_CLOCK], env, folder))
        wait_for_port(tenant, sandbox_port)
        spawned = []
        for n, port in enumerate(ports):
            args = [
                "serve",
                "--transport",
                "http",
                "--port",
                str(port),
                *(["--stateless"] if stateless else []),
            ]
            own = {**env, **(server_environ or {}).get(n, {})}
            spawned.append(stack.enter_context(spawn(f"server-{n}", args, own, folder)))
        for server, port in zip(spawned, ports, strict=True):
            wait_for_port(server, port, timeout=60)
        yield base, [f"http://127.0.0.1:{port}/mcp" for port in ports], [tenant, *spawned]


@contextlib.asynccontextmanager
async def session(url: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), read_timeout_seconds=60) as client,
    ):
        yield client


def settled(outcomes: dict[int, tuple[str, Any]], customer: int, done: bool, answer: Any) -> bool:
    """Note a booking attempt's outcome: booked, or refused for good; False when it is worth trying again
    with the same arguments (the server said so)."""
    if done:
        outcomes[customer] = ("booked", answer)
        return True
    if "did not confirm" not in answer and "busy with another booking" not in answer:
        outcomes[customer] = ("refused", answer)
        return True
    return False


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(block, "text", "") for block in result.content or [])
    return (not result.is_error, result.structured_content if not result.is_error else text)


async def one_technician_left(client: Client, fillers: list[tuple[int, int]]) -> dict[str, Any]:
    """A Heating Repair window with exactly one technician left (filled up by other customers)."""
    where = {"job_type": "Heating Repair", "zip": "80210", "max_slots": 10}
    while True:
        done, offer = await call(client, "get_available_slots", where)
        assert done, offer
        slot = min(offer["slots"], key=lambda s: s["technicians_available"])
        if slot["technicians_available"] == 1:
            return dict(slot)
        customer, location = fillers.pop()
        args = {
            "customer_id": customer,
            "location_id": location,
            "slot_id": slot["slot_id"],
            "summary": "Tune-up",
        }
        done, booked = await call(client, "book_job", args)
        assert done, booked


async def race(sandbox_base: str, urls: list[str], customers: list[tuple[int, int]]) -> dict[str, Any]:
    racers, fillers = customers[:AGENTS], customers[AGENTS:]
    async with session(urls[0]) as first:
        slot = await one_technician_left(first, fillers)
    async with httpx.AsyncClient(base_url=sandbox_base, timeout=10) as admin:
        for rule in (
            {
                "method": "POST",
                "path": r"/jobs$",
                "delayMs": 5000,
                "times": 1,
            },  # the first: slower than a lease
            {"method": "POST", "path": r"/jobs$", "status": 502, "when": "after", "probability": 0.5},
        ):
            assert (await admin.post("/_sandbox/faults", json=rule)).status_code == 201

    outcomes: dict[int, tuple[str, Any]] = {}

    async def agent(index: int) -> None:
        customer, location = racers[index]
        async with session(urls[index % 2]) as client:
            done, offer = await call(
                client, "get_available_slots", {"job_type": "Heating Repair", "zip": "80210", "max_slots": 10}
            )
            mine = next((s for s in offer["slots"] if s["start_utc"] == slot["start_utc"]), None)
            if mine is None:
                outcomes[customer] = ("no longer offered", None)
                return
            args = {
                "customer_id": customer,
                "location_id": location,
                "slot_id": mine["slot_id"],
                "summary": "No heat",
            }
            for _ in range(8):
                done, answer = await call(client, "book_job", args)
                if settled(outcomes, customer, done, answer):
                    return
            outcomes[customer] = ("gave up", answer)

    with anyio.fail_after(300):
        async with anyio.create_task_group() as tasks:
            for index in range(AGENTS):
                tasks.start_soon(agent, index)
    return {"slot": slot, "outcomes": outcomes}


def denver_customers(tenant: Any) -> list[tuple[int, int]]:
    zone = next(z for z in tenant.zones.values() if z.name == "Denver Metro")
    pairs = []
    for location in sorted(tenant.locations.values(), key=lambda loc: loc.id):
        customer = tenant.customers[location.customer_id]
        if not customer.do_not_service and location.address.zip in zone.zips:
            pairs.append((customer.id, location.id))
    return pairs


def test_one_technician_is_booked_once_across_two_processes_under_faults(tmp_path: Path) -> None:
    with stack(tmp_path) as (sandbox_base, urls, processes), explained(*processes):
        state = tmp_path / "tenant.db"
        customers = denver_customers(create_sandbox_app(SandboxConfig(state=state)).state.sandbox)
        result = anyio.run(race, sandbox_base, urls, customers)
    tenant = create_sandbox_app(SandboxConfig(state=state)).state.sandbox
    racers = {customer for customer, _ in customers[:AGENTS]}
    moment = datetime.fromisoformat(result["slot"]["start_utc"])
    jobs_in_window = {a.job_id for a in tenant.appointments.values() if a.start == moment}
    in_window = [
        tenant.jobs[job_id] for job_id in jobs_in_window if tenant.jobs[job_id].customer_id in racers
    ]
    summary = f"outcomes: {result['outcomes']}"
    print(summary)
    assert len(in_window) == 1, f"{len(in_window)} jobs in a one-technician window; {summary}"
    # Jobs this server made carry its booking key in externalData; the seed's history does not.
    per_customer = [
        job.customer_id for job in tenant.jobs.values() if job.customer_id in racers and job.external_data
    ]
    assert len(per_customer) == len(set(per_customer)), f"a customer has two jobs; {summary}"
    booked = [answer for kind, answer in result["outcomes"].values() if kind == "booked"]
    assert [answer["job_id"] for answer in booked] == [in_window[0].id], summary
