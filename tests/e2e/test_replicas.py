"""Three stateless replicas on one PostgreSQL store behind a round-robin proxy, one of them killed mid-run.

One ServiceTitan (``st-mcp sandbox`` on loopback, with injected faults: a create slower than a window lease,
and 502s after the job was made), three ``st-mcp serve --transport http --stateless`` processes sharing a
PostgreSQL database, and a reverse proxy (Starlette + httpx, this test's own) sending each request to the
next replica. Six agents race for a window with one technician left, each retrying "did not confirm" with
the same arguments as told; a second into the race, a replica is killed. Afterwards, in the tenant itself:
one job in the window, no customer with two jobs, the agent whose job it is was told so — and the audit
chain the three processes wrote verifies.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from st_mcp import cli
from st_mcp.sandbox import SandboxConfig, create_sandbox_app
from tests.postgres import needs_postgres

from .conftest import Spawned, explained, free_port
from .test_booking_two_processes import (
    AGENTS,
    call,
    denver_customers,
    one_technician_left,
    session,
    settled,
    stack,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio, needs_postgres]
REPLICAS = 3
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


def round_robin_proxy(upstreams: list[str]) -> Starlette:
    """Each request to the next replica; one that refuses the connection (dead) is skipped. ``upstreams``
    are the replicas' MCP URLs; every path is forwarded (``/mcp``, and the webhooks beside it)."""
    client = httpx.AsyncClient(timeout=120)
    turn = itertools.count()
    bases = [upstream.removesuffix("/mcp") for upstream in upstreams]

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        query = f"?{request.url.query}" if request.url.query else ""
        for _ in bases:
            target = bases[next(turn) % len(bases)] + request.url.path + query
            outgoing = client.build_request(request.method, target, content=body, headers=headers)
            try:
                answer = await client.send(outgoing, stream=True)
            except httpx.ConnectError:
                continue  # never reached a replica: safe to send to the next one
            except httpx.TransportError:  # it died with the request: the caller decides whether to retry
                return Response("the replica went away", status_code=502)
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
            return StreamingResponse(
                answer.aiter_raw(), answer.status_code, kept, background=BackgroundTask(answer.aclose)
            )
        return Response("no replica answered", status_code=502)

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE"])])


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await anyio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            server.should_exit = True


async def race(
    sandbox_base: str, upstreams: list[str], doomed: Spawned, customers: list[tuple[int, int]]
) -> Any:
    racers, fillers = customers[:AGENTS], customers[AGENTS:]
    async with serving(round_robin_proxy(upstreams)) as url:
        async with session(url) as first:
            slot = await one_technician_left(first, fillers)
        async with httpx.AsyncClient(base_url=sandbox_base, timeout=10) as admin:
            for rule in (
                {"method": "POST", "path": r"/jobs$", "delayMs": 5000, "times": 1},
                {"method": "POST", "path": r"/jobs$", "status": 502, "when": "after", "probability": 0.5},
            ):
                assert (await admin.post("/_sandbox/faults", json=rule)).status_code == 201
        outcomes: dict[int, tuple[str, Any]] = {}

        async def agent(index: int) -> None:
            customer, location = racers[index]
            where = {"job_type": "Heating Repair", "zip": "80210", "max_slots": 10}
            answer: Any = None
            for _ in range(10):  # a call cut off by the killed replica is made again, as a client would
                try:
                    async with session(url) as client:
                        done, offer = await call(client, "get_available_slots", where)
                        mine = next((s for s in offer["slots"] if s["start_utc"] == slot["start_utc"]), None)
                        if mine is None:
                            outcomes[customer] = ("no longer offered", None)
                            return
                        args = {"customer_id": customer, "location_id": location, "slot_id": mine["slot_id"],
                                "summary": "No heat"}  # fmt: skip
                        done, answer = await call(client, "book_job", args)
                except (httpx.HTTPError, Exception) as exc:
                    answer = f"{type(exc).__name__}: {exc}"
                    continue
                if settled(outcomes, customer, done, answer):
                    return
            outcomes[customer] = ("gave up", answer)

        async def kill_one() -> None:
            await anyio.sleep(1.0)
            doomed.process.send_signal(signal.SIGKILL)

        with anyio.fail_after(300):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(kill_one)
                for index in range(AGENTS):
                    tasks.start_soon(agent, index)
    return {"slot": slot, "outcomes": outcomes}


def test_three_replicas_book_once_with_one_killed_and_one_audit_chain(tmp_path: Path, pg_url: str) -> None:
    with (
        stack(tmp_path, servers=REPLICAS, database_url=pg_url, stateless=True) as (
            sandbox_base,
            upstreams,
            processes,
        ),
        explained(*processes),
    ):
        state = tmp_path / "tenant.db"
        customers = denver_customers(create_sandbox_app(SandboxConfig(state=state)).state.sandbox)
        result = anyio.run(race, sandbox_base, upstreams, processes[2], customers)
        assert processes[2].process.poll() is not None, "the replica was killed mid-run"
    tenant = create_sandbox_app(SandboxConfig(state=state)).state.sandbox
    racers = {customer for customer, _ in customers[:AGENTS]}
    moment = datetime.fromisoformat(result["slot"]["start_utc"])
    in_window = [
        tenant.jobs[a.job_id]
        for a in tenant.appointments.values()
        if a.start == moment and tenant.jobs[a.job_id].customer_id in racers
    ]
    summary = f"outcomes: {result['outcomes']}"
    assert len({job.id for job in in_window}) == 1, (
        f"{len(in_window)} jobs in a one-technician window; {summary}"
    )
    per_customer = [
        j.customer_id for j in tenant.jobs.values() if j.customer_id in racers and j.external_data
    ]
    assert len(per_customer) == len(set(per_customer)), f"a customer has two jobs; {summary}"
    booked = [answer for kind, answer in result["outcomes"].values() if kind == "booked"]
    assert [answer["job_id"] for answer in booked] == [in_window[0].id], summary

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ST_MCP_DATABASE_URL", pg_url)
        assert cli.main(["audit", "verify"]) == 0, "the three replicas wrote one unbroken audit chain"
