"""Prometheus metrics: one set per process, on prometheus_client's default registry.

Each metric is fed from the one place that already sees every event of its kind — the guard (every MCP
request), the upstream meter (every ServiceTitan request, token fetches included), the compliance gate's
recorder (every decision) and the lead queue — so no tool has to remember to count itself. Labels are
bounded sets: tool, role and tenant names from the registry and config, ServiceTitan operations with ids
folded to ``{id}``, HTTP status codes, gate rules. Nothing a caller types becomes a label, and no secret
can.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from st_mcp.servicetitan.metrics import UpstreamCall

TOOL_CALLS = Counter(
    "st_mcp_tool_calls",
    "MCP requests through the guard (tools, resource reads, prompts, completions) by outcome and role.",
    ["kind", "tool", "outcome", "role", "tenant"],
)
TOOL_LATENCY = Histogram(
    "st_mcp_tool_call_duration_seconds",
    "Time from the guard's permission check to the answer, per MCP request.",
    ["kind", "tool"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPSTREAM_REQUESTS = Counter(
    "st_mcp_upstream_requests",
    "HTTP requests to ServiceTitan by operation and status (0: no answer), per tenant.",
    ["operation", "status", "tenant"],
)
UPSTREAM_LATENCY = Histogram(
    "st_mcp_upstream_request_duration_seconds",
    "ServiceTitan request latency by operation.",
    ["operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPSTREAM_RATE_LIMITED = Counter(
    "st_mcp_upstream_rate_limited",
    "ServiceTitan answers of 429 Too Many Requests by operation, per tenant.",
    ["operation", "tenant"],
)
TOKEN_FETCHES = Counter(
    "st_mcp_token_fetches",
    "Client-credentials token requests to ServiceTitan by outcome, per tenant.",
    ["outcome", "tenant"],
)
GATE_DECISIONS = Counter(
    "st_mcp_gate_decisions",
    "Compliance gate decisions by the rule that decided and whether the send was allowed, per tenant.",
    ["rule", "outcome", "tenant"],
)
LEAD_QUEUE_DUE = Gauge(
    "st_mcp_lead_queue_due", "Leads due for a touch, as of the tenant's last lead-queue read.", ["tenant"]
)
LEAD_QUEUE_UPCOMING = Gauge(
    "st_mcp_lead_queue_upcoming",
    "Leads with a touch scheduled later, as of the tenant's last lead-queue read.",
    ["tenant"],
)

TOKEN_PATH = "/connect/token"
_TENANT = re.compile(r"/tenant/\d+")
_ID = re.compile(r"/(?:\d+|[0-9a-fA-F-]{32,36})(?=/|$)")


def operation_of(call: UpstreamCall) -> str:
    """``GET /crm/v2/customers/{id}``: the method and path with the tenant and ids folded away."""
    path = _ID.sub("/{id}", _TENANT.sub("", call.path))
    return f"{call.method} {path}"


@functools.cache  # one observer per tenant: a client reused across app contexts is observed once
def upstream_observer(tenant: str) -> Callable[[UpstreamCall], None]:
    """The upstream meter's observer for one tenant's client: each ServiceTitan HTTP exchange."""

    def observe(call: UpstreamCall) -> None:
        if call.path.endswith(TOKEN_PATH):
            TOKEN_FETCHES.labels("ok" if call.status == 200 else "failed", tenant).inc()
        operation = operation_of(call)
        UPSTREAM_REQUESTS.labels(operation, str(call.status or 0), tenant).inc()
        UPSTREAM_LATENCY.labels(operation).observe(call.duration_ms / 1000)
        if call.status == 429:
            UPSTREAM_RATE_LIMITED.labels(operation, tenant).inc()

    return observe


def observe_call(kind: str, tool: str, outcome: str, role: str, tenant: str, seconds: float) -> None:
    TOOL_CALLS.labels(kind, tool, outcome, role, tenant).inc()
    TOOL_LATENCY.labels(kind, tool).observe(seconds)


def observe_gate(rule: str, allowed: bool, tenant: str) -> None:
    GATE_DECISIONS.labels(rule, "allowed" if allowed else "blocked", tenant).inc()


def observe_lead_queue(due: int, upcoming: int, tenant: str) -> None:
    LEAD_QUEUE_DUE.labels(tenant).set(due)
    LEAD_QUEUE_UPCOMING.labels(tenant).set(upcoming)


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
