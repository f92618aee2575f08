"""Benchmark: many concurrent MCP sessions over streamable HTTP against one ``st-mcp serve`` process.

Starts the server on 127.0.0.1 (embedded sandbox tenant, which answers 429 past 60 requests in any
rolling second, as ServiceTitan does), opens ``--sessions`` client sessions at once, each calling
``lookup_customer``, and reports: lookup latency p50/p99, sessions per second, the 429s ServiceTitan
(the sandbox) sent, and tool calls without an audit record. The upstream floor is set by the
60-per-second limit: N sessions × 3 requests ÷ 60 per second.

    python bench/concurrent_sessions.py --sessions 200
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx
from mcp import Client

PHONES = ["(303) 555-0142", "(720) 555-0118", "(813) 555-0190", "512-555-0163"]
REQUESTS_PER_LOOKUP = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start listening")


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def run(sessions: int, url: str) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    failures = 0

    async def one(index: int) -> None:
        nonlocal failures
        try:
            async with Client(url, read_timeout_seconds=120) as client:
                started = time.perf_counter()
                result = await client.call_tool("lookup_customer", {"phone": PHONES[index % len(PHONES)]})
                latencies.append(time.perf_counter() - started)
                failures += bool(result.is_error)
        except Exception as exc:  # a session that could not even connect counts as a failure
            print(f"session {index}: {type(exc).__name__}: {exc}", file=sys.stderr)
            failures += 1

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for index in range(sessions):
            tg.start_soon(one, index)
    return latencies, failures, time.perf_counter() - started


def main(sessions: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="st-mcp-bench-"))
    database = folder / "st.db"
    port = free_port()
    env = {
        **os.environ,
        "ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "XDG_DATA_HOME": str(folder),
        "ST_MCP_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "st_mcp", "serve", "--transport", "http", "--port", str(port)]
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        latencies, failures, wall = anyio.run(run, sessions, f"http://127.0.0.1:{port}/mcp")
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        process.terminate()
        process.wait(timeout=30)
    with sqlite3.connect(database) as db:
        audited = db.execute("SELECT count(*) FROM audit_events WHERE tool = 'lookup_customer'").fetchone()[0]
    refused = metric(scraped, "st_mcp_upstream_requests_total", status="429")
    upstream = metric(scraped, "st_mcp_upstream_requests_total")
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[max(0, int(len(lat) * 0.99) - 1)] * 1000 if lat else float("nan")
    floor = sessions * REQUESTS_PER_LOOKUP / 60
    print(f"{sessions} concurrent sessions over streamable HTTP, one server process")
    print(f"  lookup_customer: p50 {p50:.0f} ms, p99 {p99:.0f} ms; {failures} failed")
    print(f"  wall {wall:.1f} s, {sessions / wall:.1f} sessions/s; upstream floor at 60/s: {floor:.1f} s "
          f"(wall ÷ floor = {wall / floor:.2f})")  # fmt: skip
    print(f"  upstream requests {upstream:.0f}, ServiceTitan 429s: {refused:.0f}")
    print(f"  tool calls {len(latencies)}, audit records {audited}, lost: {len(latencies) - audited}")
    print(f"  server log: {folder / 'server.log'}")
    if re.search(r"AUDIT WRITE FAILED", (folder / "server.log").read_text(errors="replace")):
        print("  the server log has AUDIT WRITE FAILED lines")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    main(parser.parse_args().sessions)
