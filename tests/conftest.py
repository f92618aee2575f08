"""Shared pytest configuration: every async test runs on asyncio through anyio's plugin."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
