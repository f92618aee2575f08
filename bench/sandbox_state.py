"""Benchmark: what keeping the sandbox tenant in a state file costs per request.

Times the same requests against an in-memory tenant and a state-file tenant, in-process (no network):
a read (GET a job), a write (POST a job), and a read right after another process wrote (the reload).

    python bench/sandbox_state.py --requests 200
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx
from starlette.applications import Starlette
from tests.sandbox.conftest import MONDAY_9AM, api_path, auth_headers
from tests.sandbox.test_jobs import job_body

from st_mcp.sandbox import SandboxClock, SandboxConfig, SandboxTenant, create_sandbox_app

JOBS = api_path("jpm", "jobs")


def make_app(state: Path | None) -> Starlette:
    return create_sandbox_app(
        SandboxConfig(clock=SandboxClock(MONDAY_9AM), state=state, rate_limit_per_second=1_000_000)
    )


async def timed(times: list[float], call: Callable[[], Awaitable[httpx.Response]]) -> None:
    started = time.perf_counter()
    response = await call()
    times.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200, response.text


async def measure(state: Path | None, requests: int) -> dict[str, list[float]]:
    app = make_app(state)
    other = make_app(state) if state is not None else None
    tenant: SandboxTenant = app.state.sandbox
    results: dict[str, list[float]] = {"read": [], "write": [], "read after another writer": []}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        http.headers.update(await auth_headers(http))
        job_id = next(iter(tenant.jobs))
        for _ in range(requests):
            await timed(results["read"], lambda: http.get(f"{JOBS}/{job_id}"))
            await timed(results["write"], lambda: http.post(JOBS, json=job_body(tenant)))
        if other is not None:
            other_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://s")
            async with other_http:
                other_http.headers.update(await auth_headers(other_http))
                for _ in range(max(1, requests // 10)):
                    created = await other_http.post(JOBS, json=job_body(other.state.sandbox))
                    assert created.status_code == 200, created.text
                    await timed(results["read after another writer"], lambda: http.get(f"{JOBS}/{job_id}"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind (default: 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        memory = anyio.run(measure, None, args.requests)
        stored = anyio.run(measure, Path(folder) / "sandbox.db", args.requests)
    print(f"{'request':<28}{'memory median ms':>18}{'state file median ms':>22}{'p95 ms':>9}")
    for kind in stored:
        base = f"{statistics.median(memory[kind]):.2f}" if memory[kind] else "-"
        times = sorted(stored[kind])
        p95 = times[int(len(times) * 0.95) - 1] if times else 0.0
        print(f"{kind:<28}{base:>18}{statistics.median(times):>22.2f}{p95:>9.2f}")


if __name__ == "__main__":
    main()
