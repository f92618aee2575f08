"""A throwaway PostgreSQL database per test, on the server ``ST_MCP_TEST_POSTGRES_URL`` names.

Locally these tests need a server you start; in CI ``.ci/run`` starts one, so a missing URL there is a
failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ADMIN_URL = os.environ.get("ST_MCP_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    not ADMIN_URL and not os.environ.get("CI"),
    reason="no PostgreSQL: set ST_MCP_TEST_POSTGRES_URL to run the PostgreSQL tests",
)


async def _admin(statement: str) -> None:
    assert ADMIN_URL, "ST_MCP_TEST_POSTGRES_URL is not set (in CI, .ci/run sets it)"
    engine = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


# Every store-touching test runs on both engines the product supports (DESIGN: SQLite for one process,
# PostgreSQL for replicas).
STORE_ENGINES = ["sqlite", pytest.param("postgresql", marks=needs_postgres)]


@pytest.fixture(params=STORE_ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each engine: a SQLite file, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'st.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    assert ADMIN_URL, "ST_MCP_TEST_POSTGRES_URL is not set (in CI, .ci/run sets it)"
    name = f"st_test_{uuid.uuid4().hex[:12]}"
    anyio.run(_admin, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        anyio.run(_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
