"""Benchmark: from launching ``st-mcp serve`` (stdio) to ``tools/list`` answered, and the idle memory.

Also times ``import st_mcp.server`` alone in a fresh interpreter, the part of start-up that is ours to
make lazy (the MCP SDK's own import is the floor: it is printed too).

    python bench/startup.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(ran.stdout)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def launch_to_tools_list(folder: Path) -> tuple[float, float]:
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(folder),
        "ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/st.db",
    }
    params = StdioServerParameters(command=sys.executable, args=["-m", "st_mcp", "serve"], env=env)
    started = time.perf_counter()
    async with Client(params) as client:  # type: ignore[arg-type]
        await client.list_tools()
        elapsed = time.perf_counter() - started
        await anyio.sleep(2)  # idle: whatever start-up loads in the background has loaded
        children = subprocess.run(  # noqa: ASYNC221 - a bench, nothing else runs meanwhile
            ["pgrep", "-f", "st_mcp serve"], capture_output=True, text=True
        ).stdout
        memory = max((rss_mb(int(pid)) for pid in children.split()), default=float("nan"))
    return elapsed, memory


def main(rounds: int) -> None:
    sdk = statistics.median(import_seconds("mcp.server.mcpserver") for _ in range(rounds))
    ours = statistics.median(import_seconds("st_mcp.server") for _ in range(rounds))
    runs = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(anyio.run(launch_to_tools_list, Path(folder)))
    launch = statistics.median(r[0] for r in runs)
    memory = statistics.median(r[1] for r in runs)
    print(f"start-up, median of {rounds}")
    print(f"  import mcp.server.mcpserver (the SDK, the floor): {sdk * 1000:.0f} ms")
    print(f"  import st_mcp.server:                             {ours * 1000:.0f} ms ({ours / sdk:.1f}× SDK)")
    print(f"  launch → tools/list answered (stdio):             {launch * 1000:.0f} ms")
    print(f"  idle RSS after start:                             {memory:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    main(parser.parse_args().rounds)
