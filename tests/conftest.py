"""Shared pytest configuration: every async test runs on asyncio through anyio's plugin."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator

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


# A throwaway PostgreSQL database per test (skipped outside CI without ST_MCP_TEST_POSTGRES_URL).
from tests.postgres import pg_url  # noqa: E402, F401 - a fixture, shared by every PostgreSQL test
