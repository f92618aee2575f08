"""Benchmark: the agent's booking flow through a real MCP client session on the sandbox.

For each tool call it reports upstream ServiceTitan requests, wall time, and wall time divided by the
sandbox's injected per-request latency — a ratio that says how many sequential upstream round trips
the call cost (lower than the request count means concurrent fetches; the rest is our overhead).

    python bench/booking_flow.py --rounds 5 --latency-ms 40
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import anyio
from mcp import Client

from st_mcp.config import load_settings
from st_mcp.sandbox import SandboxConfig
from st_mcp.server import create_server
from st_mcp.upstream import connect_servicetitan


async def one_round(latency: float, folder: Path, round_no: int) -> list[tuple[str, int, float]]:
    settings = load_settings(
        environ={"ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{folder / f'r{round_no}.db'}"}
    )
    upstream = connect_servicetitan(
        settings.servicetitan, sandbox_config=SandboxConfig(latency_seconds=latency)
    )
    st = upstream.client
    rows: list[tuple[str, int, float]] = []
    async with st, Client(create_server(settings, upstream=upstream)) as client:

        async def call(tool: str, arguments: dict) -> dict:
            before, started = st.meter.total_requests, time.perf_counter()
            result = await client.call_tool(tool, arguments)
            rows.append((tool, st.meter.total_requests - before, time.perf_counter() - started))
            assert not result.is_error, result.content
            return dict(result.structured_content or {})

        found = await call("lookup_customer", {"phone": "(303) 555-0142"})
        customer = found["customers"][0]
        location_id = customer["locations"][0]["location_id"]
        offer = await call("get_available_slots", {"job_type": "Heating Repair", "location_id": location_id})
        await call("get_available_slots", {"job_type": "Heating Repair", "location_id": location_id})
        booked = await call(
            "book_job",
            {"customer_id": customer["customer_id"], "location_id": location_id,
             "slot_id": offer["slots"][0]["slot_id"], "summary": "No heat"},
        )  # fmt: skip
        await call("get_job_status", {"job_id": booked["job_id"]})
        await call(
            "escalate_to_dispatcher",
            {"reason": "human_request", "phone": "7205550118", "note": "Wants a person"},
        )
    return rows


async def main(rounds: int, latency_ms: float) -> None:
    latency = latency_ms / 1000
    per_tool: dict[str, list[tuple[int, float]]] = defaultdict(list)
    order: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for round_no in range(rounds):
            for index, (tool, requests, seconds) in enumerate(
                await one_round(latency, Path(folder), round_no)
            ):
                key = f"{index + 1}. {tool}"
                if key not in per_tool:
                    order.append(key)
                per_tool[key].append((requests, seconds))
    print(f"booking flow, {rounds} rounds, sandbox latency {latency_ms:.0f} ms per upstream request")
    print(f"{'call':<30}{'upstream':>9}{'median ms':>11}{'÷ latency':>11}")
    for key in order:
        samples = per_tool[key]
        requests = samples[0][0]
        median = statistics.median(s for _, s in samples) * 1000
        ratio = f"{median / latency_ms:.1f}" if latency_ms else "-"
        print(f"{key:<30}{requests:>9}{median:>11.1f}{ratio:>11}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    args = parser.parse_args()
    anyio.run(main, args.rounds, args.latency_ms)
