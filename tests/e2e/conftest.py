"""Helpers for end-to-end tests: real processes on real transports, loopback only, bounded in time.

Every process is spawned with a minimal environment (no ST_* credentials, so the server uses the
sandbox tenant), writes its stdout/stderr to files under the test's tmp folder, and is terminated when
the spawning context exits. Every wait has a deadline. Failures carry the servers' stderr.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

STARTUP_TIMEOUT = 20.0  # seconds for a spawned server to accept connections
TEST_TIMEOUT = 30.0  # seconds for one test's client conversation
READ_TIMEOUT = 15.0  # seconds the MCP client waits for any one response

SANDBOX_TENANT_ID = 4417001
JORDAN_PHONE = "(303) 555-0142"
# What the default stdio principal (role virtual_agent) sees: not cancel_job, which needs jobs.cancel,
# nor the CSR tools, which need View Customer Chats / Send Message.
AGENT_TOOLS = {
    "lookup_customer",
    "create_customer",
    "get_available_slots",
    "book_job",
    "reschedule_job",
    "get_job_status",
    "escalate_to_dispatcher",
    "ingest_lead",
    "log_message",
    "log_call",
    "update_interaction",
}
HIDDEN_FROM_AGENT = {"cancel_job", "list_interactions", "get_interaction", "takeover_interaction"}
SANDBOX_NOTICE = "st-mcp: using the sandbox ServiceTitan tenant"


def free_port() -> int:
    """A loopback port that was free a moment ago (bind port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


E2E_CLOCK = "2026-05-05T10:30:00-06:00"


def server_env(folder: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: PATH, HOME, a throwaway SQLite store, and no ST_* credentials."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(folder),
        "ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'st-mcp.db'}",
        # A weekday morning in Denver, running on from there: texts are inside everyone's quiet hours
        # whenever the suite runs (the compliance gate would otherwise refuse them at night).
        "ST_MCP_CLOCK": E2E_CLOCK,
    }
    if "PYTHONPATH" in os.environ:  # only when the package is importable that way rather than installed
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(extra)
    return env


def read_log(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


@dataclass
class Spawned:
    """A server process started by ``spawn``; its output goes to files so pipes can never fill up."""

    name: str
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def stderr(self) -> str:
        return read_log(self.stderr_path)

    def report(self) -> str:
        state = "running" if self.process.poll() is None else f"exit code {self.process.returncode}"
        return (
            f"\n--- {self.name} (pid {self.process.pid}, {state}) stderr ---\n{self.stderr}"
            f"--- {self.name} stdout ---\n{read_log(self.stdout_path)}"
        )


@contextlib.contextmanager
def spawn(name: str, args: list[str], env: dict[str, str], folder: Path) -> Iterator[Spawned]:
    """Run ``python -m st_mcp *args`` in ``folder``; always terminated (then killed) on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = folder / f"{name}.stdout", folder / f"{name}.stderr"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "st_mcp", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=folder,
        )
    spawned = Spawned(name, process, stdout_path, stderr_path)
    try:
        yield spawned
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_for_port(server: Spawned, port: int, timeout: float = STARTUP_TIMEOUT) -> None:
    """Poll until ``127.0.0.1:port`` accepts a connection; fail early if the server exits."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"{server.name} exited before listening on port {port}{server.report()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"{server.name} did not accept connections on port {port} in {timeout:.0f} s{server.report()}"
            )
        time.sleep(0.05)


@contextlib.contextmanager
def explained(*sources: Spawned | Path) -> Iterator[None]:
    """Re-raise any failure (assertion, timeout, transport error) with the servers' stderr attached."""
    try:
        yield
    except Exception as exc:
        reports = []
        for source in sources:
            if isinstance(source, Spawned):
                reports.append(source.report())
            else:
                reports.append(f"\n--- {source.name} ---\n{read_log(source)}")
        # The cause again at the end: CI output is read from its tail, after the servers' logs.
        cause = _describe(exc)
        raise AssertionError(f"{cause}{''.join(reports)}\n--- what failed ---\n{cause}") from exc


def _describe(exc: BaseException) -> str:
    """``Type: message``, with task-group wrappers unwrapped down to what actually went wrong."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


class TransportFaults:
    """``message_handler`` for ``Client``: records transport-level exceptions (e.g. a stdout line that
    is not JSON-RPC), which the SDK reports there and otherwise only logs instead of failing."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []

    async def __call__(self, message: Any) -> None:
        if isinstance(message, Exception):
            self.errors.append(message)


def structured(result: Any, tool: str) -> dict[str, Any]:
    """The tool result's structured content, or an assertion naming the tool's error text."""
    text = " ".join(getattr(block, "text", "") for block in result.content or [])
    assert not result.is_error, f"{tool} returned an error: {text}"
    assert result.structured_content is not None, f"{tool} returned no structured content: {text}"
    return dict(result.structured_content)


async def exercise_read_tools(client: Any) -> dict[str, Any]:
    """tools/list, lookup_customer for Jordan Avery and get_available_slots; returns the pieces."""
    tools = await client.list_tools()
    names = {tool.name for tool in tools.tools}
    assert names >= AGENT_TOOLS, f"missing tools: {sorted(AGENT_TOOLS - names)}"
    assert not names & HIDDEN_FROM_AGENT, (
        f"tools the agent's role may not call are listed: {names & HIDDEN_FROM_AGENT}"
    )

    found = structured(await client.call_tool("lookup_customer", {"phone": JORDAN_PHONE}), "lookup_customer")
    assert found["phone"] == "+13035550142"
    customer = found["customers"][0]
    assert customer["name"] == "Jordan Avery", found
    location = next(loc for loc in customer["locations"] if loc["in_service_area"])

    offer = structured(
        await client.call_tool("get_available_slots", {"job_type": "Heating Repair", "zip": "80210"}),
        "get_available_slots",
    )
    assert offer["job_type"] == "Heating Repair"
    assert offer["slots"], f"no slots offered: {offer}"
    assert all(slot["slot_id"] for slot in offer["slots"])
    return {"customer": customer, "location": location, "offer": offer}


async def book_first_slot(client: Any, pieces: dict[str, Any]) -> dict[str, Any]:
    slot = pieces["offer"]["slots"][0]
    lead = structured(
        await client.call_tool(
            "ingest_lead", {"name": "Jordan Avery", "phone": "303-555-0142", "zip": "80210"}
        ),
        "ingest_lead",
    )
    booked = structured(
        await client.call_tool(
            "book_job",
            {
                "customer_id": pieces["customer"]["customer_id"],
                "location_id": pieces["location"]["location_id"],
                "slot_id": slot["slot_id"],
                "summary": "Furnace blowing cold air (e2e test).",
                "interaction_id": lead["interaction_id"],
            },
        ),
        "book_job",
    )
    assert isinstance(booked["job_id"], int) and booked["job_id"] > 0, booked
    assert booked["status"] == "Scheduled", booked
    assert booked["start_utc"] == slot["start_utc"], (booked, slot)
    return booked
