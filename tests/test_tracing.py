"""OpenTelemetry only when installed and configured: otherwise ``configure`` does nothing and says why."""

from __future__ import annotations

import importlib.util
import logging

import pytest

from st_mcp import tracing


def test_off_without_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in tracing.ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure("0.0.0") is False
    tracing.describe("tool_call", "book_job", "ok", "virtual_agent", 3)  # no span recording: a no-op


@pytest.mark.skipif(
    importlib.util.find_spec("opentelemetry.sdk") is not None,
    reason="the OpenTelemetry SDK is installed here",
)
def test_an_endpoint_without_the_sdk_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    with caplog.at_level(logging.WARNING, logger="st_mcp.tracing"):
        assert tracing.configure("0.0.0") is False
    assert "install opentelemetry-sdk" in caplog.text
