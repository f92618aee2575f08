"""Shared pytest configuration: every async test runs on asyncio through anyio's plugin."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# A throwaway PostgreSQL database per test (skipped outside CI without ST_MCP_TEST_POSTGRES_URL).
from tests.postgres import pg_url  # noqa: E402, F401 - a fixture, shared by every PostgreSQL test
