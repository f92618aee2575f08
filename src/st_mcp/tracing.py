"""OpenTelemetry tracing, only when the operator installs and configures it; a no-op otherwise.

The MCP SDK already opens a span for every message through ``opentelemetry-api`` (a no-op until a tracer
provider is set). ``configure`` sets one up only when ``opentelemetry-sdk`` and the OTLP exporter are
installed (not dependencies of st-mcp) and ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) says where to send spans; ``describe`` adds what the guard
decided to the current span. Neither needs any OpenTelemetry package to be importable.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger("st_mcp.tracing")
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configure(service_version: str) -> bool:
    """Install an OTLP tracer provider when configured and installed; True when spans are exported."""
    if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is off: install opentelemetry-sdk and "
            "opentelemetry-exporter-otlp-proto-http (%s)",
            exc.name,
        )
        return False
    resource = Resource.create({"service.name": "st-mcp", "service.version": service_version})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads the OTEL_* variables
    trace.set_tracer_provider(provider)
    return True


def describe(kind: str, name: str, outcome: str, role: str, upstream_requests: int) -> None:
    """The guard's verdict as attributes of the request's span (the SDK's), when one is recording."""
    span = _current_span()
    if span is None or not span.is_recording():
        return
    span.set_attributes(
        {
            "st_mcp.kind": kind,
            "st_mcp.name": name,
            "st_mcp.outcome": outcome,
            "st_mcp.role": role,
            "st_mcp.upstream_requests": upstream_requests,
        }
    )


def _current_span() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    return trace.get_current_span()
