"""A real ``st-mcp serve --transport http`` on loopback: a booking flow through a real MCP client moves the
Prometheus counters, and the server's stderr is JSON lines carrying the request's fields."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client
from prometheus_client.parser import text_string_to_metric_families

from .conftest import (
    READ_TIMEOUT,
    TEST_TIMEOUT,
    book_first_slot,
    exercise_read_tools,
    explained,
    free_port,
    server_env,
    spawn,
    wait_for_port,
)

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (sample, got), value in scrape.items() if sample == name and wanted <= got)


async def test_a_booking_flow_moves_the_counters(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
    with spawn("st-mcp serve --transport http", args, server_env(tmp_path), tmp_path) as server:
        wait_for_port(server, port)
        with explained(server), anyio.fail_after(TEST_TIMEOUT * 2):
            async with httpx.AsyncClient(base_url=base, timeout=READ_TIMEOUT) as http:
                assert (await http.get("/healthz")).status_code == 200
                ready = await http.get("/readyz")
                assert ready.status_code == 200, ready.text
                before = samples((await http.get("/metrics")).text)
                # A handshake-era client, so the session has an id (2026-07-28 has no sessions).
                async with Client(f"{base}/mcp", mode="legacy", read_timeout_seconds=READ_TIMEOUT) as client:
                    await book_first_slot(client, await exercise_read_tools(client))
                after = samples((await http.get("/metrics")).text)

            def moved(name: str, **labels: str) -> float:
                return total(after, name, **labels) - total(before, name, **labels)

            ok = {"kind": "tool_call", "outcome": "ok", "role": "virtual_agent"}
            for tool in ("lookup_customer", "get_available_slots", "ingest_lead", "book_job"):
                assert moved("st_mcp_tool_calls_total", tool=tool, **ok) == 1, tool
                assert moved("st_mcp_tool_call_duration_seconds_count", tool=tool) == 1, tool
            assert moved("st_mcp_upstream_requests_total") >= 4
            assert moved("st_mcp_upstream_requests_total", operation="POST /jpm/v2/jobs") >= 1
            assert total(after, "st_mcp_token_fetches_total", outcome="ok") >= 1
            assert moved("st_mcp_upstream_rate_limited_total") == 0  # a calm sandbox never says 429

        records = [json.loads(line) for line in server.stderr.splitlines() if line.startswith("{")]
    booked = [r for r in records if r.get("tool") == "book_job" and "outcome=ok" in r["message"]]
    assert booked, server.report()
    line = booked[0]
    assert {"time", "level", "logger", "message", "request_id", "principal"} <= line.keys(), line
    assert line["level"] == "INFO" and line["logger"] == "st_mcp.tools"
    assert line["principal"] == "virtual_agent" and line["session"], line  # stateful HTTP: a session id
