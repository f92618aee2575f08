"""Prometheus metrics: one set per process, on prometheus_client's default registry.

Each metric is fed from the one place that already sees every event of its kind — the guard (every MCP
request), the upstream meter (every ServiceTitan request, token fetches included), the compliance gate's
recorder (every decision) and the lead queue — so no tool has to remember to count itself. Labels are
bounded sets: tool and role names from the registry and config, ServiceTitan operations with ids folded
to ``{id}``, HTTP status codes, gate rules. Nothing a caller types becomes a label, and no secret can.
"""

from __future__ import annotations

import re

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from st_mcp.servicetitan.metrics import UpstreamCall

TOOL_CALLS = Counter(
    "st_mcp_tool_calls",
    "MCP requests through the guard (tools, resource reads, prompts, completions) by outcome and role.",
    ["kind", "tool", "outcome", "role"],
)
TOOL_LATENCY = Histogram(
    "st_mcp_tool_call_duration_seconds",
    "Time from the guard's permission check to the answer, per MCP request.",
    ["kind", "tool"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPSTREAM_REQUESTS = Counter(
    "st_mcp_upstream_requests",
    "HTTP requests to ServiceTitan by operation and status (0: no answer).",
    ["operation", "status"],
)
UPSTREAM_LATENCY = Histogram(
    "st_mcp_upstream_request_duration_seconds",
    "ServiceTitan request latency by operation.",
    ["operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPSTREAM_RATE_LIMITED = Counter(
    "st_mcp_upstream_rate_limited",
    "ServiceTitan answers of 429 Too Many Requests by operation.",
    ["operation"],
)
TOKEN_FETCHES = Counter(
    "st_mcp_token_fetches", "Client-credentials token requests to ServiceTitan by outcome.", ["outcome"]
)
GATE_DECISIONS = Counter(
    "st_mcp_gate_decisions",
    "Compliance gate decisions by the rule that decided and whether the send was allowed.",
    ["rule", "outcome"],
)
LEAD_QUEUE_DUE = Gauge("st_mcp_lead_queue_due", "Leads due for a touch, as of the last lead-queue read.")
LEAD_QUEUE_UPCOMING = Gauge(
    "st_mcp_lead_queue_upcoming", "Leads with a touch scheduled later, as of the last lead-queue read."
)

TOKEN_PATH = "/connect/token"
_TENANT = re.compile(r"/tenant/\d+")
_ID = re.compile(r"/(?:\d+|[0-9a-fA-F-]{32,36})(?=/|$)")


def operation_of(call: UpstreamCall) -> str:
    """``GET /crm/v2/customers/{id}``: the method and path with the tenant and ids folded away."""
    path = _ID.sub("/{id}", _TENANT.sub("", call.path))
    return f"{call.method} {path}"


def observe_upstream(call: UpstreamCall) -> None:
    """The upstream meter's observer: one ServiceTitan HTTP exchange."""
    if call.path.endswith(TOKEN_PATH):
        TOKEN_FETCHES.labels("ok" if call.status == 200 else "failed").inc()
    operation = operation_of(call)
    UPSTREAM_REQUESTS.labels(operation, str(call.status or 0)).inc()
    UPSTREAM_LATENCY.labels(operation).observe(call.duration_ms / 1000)
    if call.status == 429:
        UPSTREAM_RATE_LIMITED.labels(operation).inc()


def observe_call(kind: str, tool: str, outcome: str, role: str, seconds: float) -> None:
    TOOL_CALLS.labels(kind, tool, outcome, role).inc()
    TOOL_LATENCY.labels(kind, tool).observe(seconds)


def observe_gate(rule: str, allowed: bool) -> None:
    GATE_DECISIONS.labels(rule, "allowed" if allowed else "blocked").inc()


def observe_lead_queue(due: int, upcoming: int) -> None:
    LEAD_QUEUE_DUE.set(due)
    LEAD_QUEUE_UPCOMING.set(upcoming)


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
