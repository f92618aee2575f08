"""Shared pytest configuration: every async test runs on asyncio through anyio's plugin."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_configure(config: pytest.Config) -> None:
    # The default data folder (store, sandbox state) of every st-mcp the tests start, in-process or as a
    # subprocess, is a throwaway one: a run never reads or changes the developer's own tenant.
    folder = tempfile.mkdtemp(prefix="st-mcp-tests-data-")
    os.environ["XDG_DATA_HOME"] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture(autouse=True)
def _root_logger_restored() -> Iterator[None]:
    """A test that runs the CLI's serve path installs st-mcp's log handler on the root logger (as a real
    start does); take it away again so later tests do not write to a closed capture stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# What CI's output must show (issue 16): the store tests on both engines, and the scale-out proofs by name.
_ENGINE = re.compile(r"(?:\[|-|_on_)(sqlite|postgresql)(?:\]|-|$)")
_PROOFS = (
    "tests/e2e/test_replicas.py",
    "tests/e2e/test_replicas_traffic.py",
    "tests/e2e/test_tenant_isolation.py",
    "tests/outreach/test_gate_simulation.py",
)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    passed = [report for report in terminalreporter.stats.get("passed", []) if report.when == "call"]
    engines = Counter(found.group(1) for report in passed if (found := _ENGINE.search(report.nodeid)))
    write = terminalreporter.write_line
    sqlite, postgresql = engines["sqlite"], engines["postgresql"]
    write(f"store tests on both engines: {sqlite} passed on sqlite, {postgresql} on postgresql")
    for report in passed:
        if report.nodeid.startswith(_PROOFS):
            write(f"PASSED {report.nodeid} ({report.duration:.1f} s)")


# A throwaway PostgreSQL database per test (skipped outside CI without ST_MCP_TEST_POSTGRES_URL), and a
# fresh store of each engine.
from tests.postgres import pg_url, store_url  # noqa: E402, F401 - fixtures, shared by every store test
