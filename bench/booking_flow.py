"""Benchmark: the agent's booking flow (lookup → slots → book) through a real MCP client on the sandbox.

Every upstream request waits ``--latency-ms`` in the sandbox, as if ServiceTitan were that far away. For
each flow it reports upstream requests, sequential round trips (the longest chain of requests each sent
after the previous one answered) and the wall time divided by five upstream latencies — the DESIGN §10
floor (lookup 2, slots 1, booking 2 round trips) — so 1.00 means the server added nothing on top.

"cold" is the first flow of a server just started (its token, and the reference lists it loads at start,
may still be on their way); "warm" is the next caller's flow on the same server.

    python bench/booking_flow.py --rounds 5 --latency-ms 100
    python bench/booking_flow.py --rounds 5 --latency-ms 0     # our own overhead per call
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from st_mcp.config import load_settings
from st_mcp.sandbox import SandboxConfig
from st_mcp.server import create_server
from st_mcp.upstream import connect_servicetitan

FLOOR_ROUND_TRIPS = 5
CALLERS = [("(303) 555-0142", "Heating Repair"), ("(720) 555-0118", "Heating Repair")]


@dataclass
class Call:
    tool: str
    requests: int
    round_trips: int
    seconds: float


async def one_round(latency: float, folder: Path, round_no: int) -> dict[str, list[Call]]:
    settings = load_settings(
        environ={"ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{folder / f'r{round_no}.db'}"}
    )
    upstream = connect_servicetitan(
        settings.servicetitan, sandbox_config=SandboxConfig(latency_seconds=latency)
    )
    st = upstream.client
    flows: dict[str, list[Call]] = {}
    async with st, Client(create_server(settings, upstream=upstream)) as client:

        async def call(into: list[Call], tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            started = time.perf_counter()
            with st.meter.measure() as recording:
                result = await client.call_tool(tool, arguments)
            seconds = time.perf_counter() - started
            into.append(Call(tool, recording.count, recording.round_trips, seconds))
            assert not result.is_error, result.content
            return dict(result.structured_content or {})

        for label, (phone, job_type) in zip(("cold", "warm"), CALLERS, strict=True):
            calls: list[Call] = []
            found = await call(calls, "lookup_customer", {"phone": phone})
            customer = found["customers"][0]
            location_id = customer["locations"][0]["location_id"]
            where = {"job_type": job_type, "location_id": location_id}
            offer = await call(calls, "get_available_slots", where)
            await call(
                calls,
                "book_job",
                {"customer_id": customer["customer_id"], "location_id": location_id,
                 "slot_id": offer["slots"][0]["slot_id"], "summary": "No heat"},
            )  # fmt: skip
            flows[label] = calls
    return flows


def report(rounds: list[dict[str, list[Call]]], latency_ms: float) -> None:
    print(f"booking flow, {len(rounds)} rounds, sandbox latency {latency_ms:.0f} ms per upstream request")
    print(f"{'flow':<6}{'call':<22}{'requests':>9}{'round trips':>13}{'median ms':>11}")
    for label in ("cold", "warm"):
        flows = [r[label] for r in rounds]
        for index, first in enumerate(flows[0]):
            calls = [flow[index] for flow in flows]
            median = statistics.median(c.seconds for c in calls) * 1000
            requests = max(c.requests for c in calls)
            trips = max(c.round_trips for c in calls)
            print(f"{label:<6}{first.tool:<22}{requests:>9}{trips:>13}{median:>11.1f}")
        totals = [sum(c.seconds for c in flow) for flow in flows]
        total_ms = statistics.median(totals) * 1000
        requests = max(sum(c.requests for c in flow) for flow in flows)
        trips = max(sum(c.round_trips for c in flow) for flow in flows)
        ratio = f"{total_ms / (FLOOR_ROUND_TRIPS * latency_ms):.2f}" if latency_ms else "-"
        print(
            f"{label:<6}{'whole flow':<22}{requests:>9}{trips:>13}{total_ms:>11.1f}"
            f"   ÷ ({FLOOR_ROUND_TRIPS} × latency) = {ratio}"
        )
        if not latency_ms:
            print(f"{'':<6}{'our overhead per call':<22}{'':>22}{total_ms / len(flows[0]):>11.1f}")


async def main(rounds: int, latency_ms: float) -> None:
    logging.disable(logging.INFO)  # the per-call log lines would drown the table
    with tempfile.TemporaryDirectory() as folder:
        results = [await one_round(latency_ms / 1000, Path(folder), n) for n in range(rounds)]
    report(results, latency_ms)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    anyio.run(main, args.rounds, args.latency_ms)
