"""The job-events watcher runs where the leads poller does: in the long-running HTTP server's lifespan,
every ``[lifecycle] watch_jobs_seconds``; off by default, and never on stdio."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest
from mcp import Client

import st_mcp.server.app as server_app
from st_mcp.server import create_server
from tests.server.conftest import Harness

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("seconds", "http", "runs"), [(7, True, True), (0, True, False), (7, False, False)])
async def test_the_watcher_runs_in_the_http_server(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, seconds: int, http: bool, runs: bool
) -> None:
    started: list[tuple[Any, int]] = []

    async def watch(watcher: Any, interval: int) -> None:
        started.append((watcher, interval))
        await anyio.sleep_forever()

    monkeypatch.setattr(server_app, "watch_forever", watch)
    lifecycle = harness.settings.lifecycle.model_copy(update={"watch_jobs_seconds": seconds})
    settings = harness.settings.model_copy(update={"lifecycle": lifecycle})
    async with Client(create_server(settings, upstream=harness.upstream, poll_leads=http)) as client:
        await client.list_tools()
        await anyio.lowlevel.checkpoint()
    assert [interval for _watcher, interval in started] == ([seconds] if runs else [])
    if runs:
        assert started[0][0] is harness.app.lifecycle.watcher
